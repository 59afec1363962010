import { readFileSync } from 'node:fs';
import {
  createServer as createHttp,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface GatewayRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * A real HTTP(S) SMS gateway on 127.0.0.1 for tests: records every request it received and
 * answers as the test says (`answer`), including never (a hung gateway).
 */
export class SmsGateway {
  received: GatewayRequest[] = [];
  answer: (res: ServerResponse, req: GatewayRequest) => void = (res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"queued"}');
  private readonly server: Server;
  address = '';

  constructor(tls?: { certFile: string; keyFile: string }) {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const got = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.received.push(got);
        this.answer(res, got);
      });
    };
    this.server = tls
      ? createHttps({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, handler)
      : createHttp(handler);
  }

  /** Listens on a free loopback port; returns `127.0.0.1:port`. */
  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.address = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.address;
  }

  /** The code in the last request's body or URL (the first run of `digits` digits after `marker`). */
  lastCode(marker = 'code', digits = 6): string {
    const last = this.received.at(-1);
    const text = `${last?.url ?? ''} ${last?.body ?? ''}`;
    const m = new RegExp(`${marker}\\D{0,20}?(\\d{${digits}})`).exec(text);
    if (!m?.[1]) throw new Error(`no code in ${JSON.stringify(text)}`);
    return m[1];
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
