import dgram from 'node:dgram';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import net, { isIPv6 } from 'node:net';
import tls from 'node:tls';
import type { AuditEvent } from '../model/index.ts';
import type { AuditStream } from '../store/index.ts';
import { formatSyslog, type SyslogHeader } from './rfc5424.ts';

export interface SyslogTarget {
  protocol: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
  facility: number;
  streams: readonly AuditStream[];
  caFile?: string;
}

export interface JsonLinesTarget {
  /** `stdout`, or a file appended to. */
  target: string;
  streams: readonly AuditStream[];
}

export interface AuditOutputsConfig {
  syslog?: SyslogTarget;
  jsonl?: JsonLinesTarget;
  queueSize: number;
}

export interface AuditOutputHooks {
  /** An event an output had no room for (the queue was full): counted, never waited for. */
  onDrop?(output: 'syslog' | 'jsonl'): void;
  /** A connection problem, said once per outage (no event content). */
  onError?(output: 'syslog' | 'jsonl', message: string): void;
}

export type AuditOutputName = 'syslog' | 'jsonl';

interface Output {
  readonly name: AuditOutputName;
  /** Where it sends, as configured: `udp://host:port`, a file path or `stdout`. */
  readonly where: string;
  /** The streams it sends; switched at run time (see AuditOutputs.switchStreams). */
  streams: readonly AuditStream[];
  send(event: AuditEvent, stream: AuditStream): void;
  close(): Promise<void>;
}

/**
 * Copies audit events out of the node as they are recorded: RFC 5424 syslog and JSON lines, each
 * for the streams it is configured with. `forward` only formats and queues; the sending runs on
 * its own, and a full queue drops the event and counts it, so no output can slow a login.
 */
export class AuditOutputs {
  private readonly outputs: Output[] = [];
  readonly dropped = { syslog: 0, jsonl: 0 };

  constructor(
    config: AuditOutputsConfig,
    header: Omit<SyslogHeader, 'facility'>,
    hooks: AuditOutputHooks = {},
  ) {
    const drop = (o: 'syslog' | 'jsonl') => {
      this.dropped[o]++;
      hooks.onDrop?.(o);
    };
    if (config.syslog)
      this.outputs.push(
        new SyslogOutput(config.syslog, { ...header, facility: config.syslog.facility }, config.queueSize, {
          drop: () => drop('syslog'),
          error: (m) => hooks.onError?.('syslog', m),
        }),
      );
    if (config.jsonl)
      this.outputs.push(new JsonLinesOutput(config.jsonl, config.queueSize, () => drop('jsonl')));
  }

  get enabled(): boolean {
    return this.outputs.length > 0;
  }

  /** Each configured output (its target as configured, never a credential) and the streams it sends now. */
  describe(): { name: AuditOutputName; target: string; streams: AuditStream[] }[] {
    return this.outputs.map((o) => ({ name: o.name, target: o.where, streams: [...o.streams] }));
  }

  /**
   * Sets the streams an output sends from now on (an empty list: none); the connection or file
   * stays open, so switching back on loses nothing in a reconnect. False when it is not configured.
   */
  switchStreams(name: AuditOutputName, streams: readonly AuditStream[]): boolean {
    const o = this.outputs.find((x) => x.name === name);
    if (!o) return false;
    o.streams = [...streams];
    return true;
  }

  forward(event: AuditEvent, stream: AuditStream): void {
    for (const o of this.outputs) if (o.streams.includes(stream)) o.send(event, stream);
  }

  /** Sends what is queued (for a little while), then closes the connections and files. */
  async close(): Promise<void> {
    await Promise.all(this.outputs.map((o) => o.close()));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

class SyslogOutput implements Output {
  readonly name = 'syslog';
  streams: readonly AuditStream[];
  private readonly queue: Buffer[] = [];
  private socket: net.Socket | null = null;
  private udp: dgram.Socket | null = null;
  private pumping = false;
  private closed = false;
  private failing = false;

  constructor(
    private readonly target: SyslogTarget,
    private readonly header: SyslogHeader,
    private readonly cap: number,
    private readonly on: { drop(): void; error(message: string): void },
  ) {
    this.streams = target.streams;
    this.where = `${target.protocol}://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  }

  readonly where: string;

  send(event: AuditEvent, stream: AuditStream): void {
    if (this.closed) return;
    if (this.queue.length >= this.cap) {
      this.on.drop();
      return;
    }
    const msg = Buffer.from(formatSyslog(event, stream, this.header));
    // stream transports use octet counting (RFC 6587 §3.4.1): a message may hold any byte
    this.queue.push(
      this.target.protocol === 'udp' ? msg : Buffer.concat([Buffer.from(`${msg.length} `), msg]),
    );
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      let backoff = 100;
      while (this.queue.length > 0 && !this.closed) {
        try {
          await this.write(this.queue[0]!);
          this.queue.shift();
          backoff = 100;
          this.failing = false;
        } catch (err) {
          if (!this.failing)
            this.on.error(
              `syslog ${this.target.protocol}://${this.target.host}:${this.target.port}: ${(err as Error).message}`,
            );
          this.failing = true;
          // a datagram that could not go (too large, no route) would block the queue for good:
          // it is dropped and counted; a stream connection is retried with the message kept
          if (this.target.protocol === 'udp') {
            this.queue.shift();
            this.on.drop();
          }
          this.socket?.destroy();
          this.socket = null;
          await sleep(backoff);
          backoff = Math.min(backoff * 2, 5_000);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async write(frame: Buffer): Promise<void> {
    if (this.target.protocol === 'udp') {
      this.udp ??= dgram.createSocket(isIPv6(this.target.host) ? 'udp6' : 'udp4').unref();
      const udp = this.udp;
      await new Promise<void>((resolve, reject) =>
        udp.send(frame, this.target.port, this.target.host, (err) => (err ? reject(err) : resolve())),
      );
      return;
    }
    const socket = this.socket ?? (await this.connect());
    if (!socket.write(frame)) await new Promise((r) => socket.once('drain', r));
  }

  private connect(): Promise<net.Socket> {
    const { host, port, protocol, caFile } = this.target;
    return new Promise((resolve, reject) => {
      const socket =
        protocol === 'tls'
          ? tls.connect({
              host,
              port,
              // SNI takes a name only; the certificate is checked against the address either way
              ...(net.isIP(host) ? {} : { servername: host }),
              ...(caFile ? { ca: readFileSync(caFile) } : {}),
            })
          : net.connect({ host, port });
      const ready = protocol === 'tls' ? 'secureConnect' : 'connect';
      socket.once(ready, () => {
        socket.removeListener('error', reject);
        socket.on('error', () => {
          if (this.socket === socket) this.socket = null;
        });
        socket.on('close', () => {
          if (this.socket === socket) this.socket = null;
        });
        socket.unref();
        this.socket = socket;
        resolve(socket);
      });
      // on, not once: a second error before the handshake ends (an alert, then the reset) is caught too
      socket.on('error', reject);
    });
  }

  async close(): Promise<void> {
    const deadline = Date.now() + 2_000;
    while ((this.queue.length > 0 || this.pumping) && Date.now() < deadline) await sleep(20);
    this.closed = true;
    const socket = this.socket;
    if (socket) await new Promise<void>((r) => socket.end(() => r()));
    this.udp?.close();
  }
}

class JsonLinesOutput implements Output {
  readonly name = 'jsonl';
  readonly where: string;
  streams: readonly AuditStream[];
  private readonly out: NodeJS.WritableStream & { writableLength: number };
  private readonly file: WriteStream | null;

  constructor(
    target: JsonLinesTarget,
    private readonly cap: number,
    private readonly drop: () => void,
  ) {
    this.streams = target.streams;
    this.where = target.target;
    this.file =
      target.target === 'stdout' ? null : createWriteStream(target.target, { flags: 'a', mode: 0o600 });
    this.out = this.file ?? process.stdout;
  }

  send(event: AuditEvent, stream: AuditStream): void {
    // a reader that does not keep up (a full pipe) costs dropped lines, not memory or logins
    if (this.out.writableLength > this.cap * 1024) {
      this.drop();
      return;
    }
    this.out.write(`${JSON.stringify({ stream, ...event })}\n`);
  }

  async close(): Promise<void> {
    const file = this.file;
    if (file) await new Promise<void>((r) => file.end(() => r()));
  }
}
