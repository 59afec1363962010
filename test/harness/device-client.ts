// A phone, simulated: a WebCrypto P-256 key pair that pairs with Tessera and signs every request
// the way the authenticator PWA does (headers and text as plugin/device expects them).
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import type { Json } from './tessera.ts';

export interface DeviceReply {
  status: number;
  body: Json;
}

/** How a device reaches the server: fetch against a node, or Fastify's inject in a unit test. */
export type DeviceTransport = (
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
) => Promise<DeviceReply>;

export function fetchTransport(baseUrl: string): DeviceTransport {
  return async (method, path, headers, body) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

export interface SignedParts {
  device: string;
  timestamp?: number;
  nonce?: string;
}

export class DeviceClient {
  deviceId = '';
  totpSecret = '';
  private constructor(
    private readonly keys: webcrypto.CryptoKeyPair,
    readonly publicJwk: webcrypto.JsonWebKey,
    private readonly send: DeviceTransport,
  ) {}

  /** The same phone (key pair, device id) talking to another node. */
  via(send: DeviceTransport): DeviceClient {
    const other = new DeviceClient(this.keys, this.publicJwk, send);
    other.deviceId = this.deviceId;
    other.totpSecret = this.totpSecret;
    return other;
  }

  static async create(send: DeviceTransport): Promise<DeviceClient> {
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const jwk = await webcrypto.subtle.exportKey('jwk', keys.publicKey);
    return new DeviceClient(keys, { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, send);
  }

  async pair(pairingToken: string, name = 'Test phone'): Promise<DeviceReply> {
    const body = JSON.stringify({ pairingToken, publicKey: this.publicJwk, name, platform: 'node-test' });
    const reply = await this.send('POST', '/v1/device/pair', {}, body);
    if (reply.status === 201) {
      this.deviceId = reply.body.deviceId;
      this.totpSecret = reply.body.totp.secret;
    }
    return reply;
  }

  /** The four signature headers for one request (fresh nonce and timestamp unless given). */
  async headers(method: string, path: string, body: string, parts: Partial<SignedParts> = {}) {
    const timestamp = String(parts.timestamp ?? Date.now());
    const nonce = parts.nonce ?? randomBytes(16).toString('base64url');
    const digest = createHash('sha256').update(body).digest('base64url');
    const text = `${method}\n${path}\n${timestamp}\n${nonce}\n${digest}`;
    const sig = await webcrypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      this.keys.privateKey,
      new TextEncoder().encode(text),
    );
    return {
      'x-tessera-device': parts.device ?? this.deviceId,
      'x-tessera-timestamp': timestamp,
      'x-tessera-nonce': nonce,
      'x-tessera-signature': Buffer.from(sig).toString('base64url'),
    };
  }

  async request(
    method: string,
    path: string,
    json?: object,
    parts: Partial<SignedParts> = {},
  ): Promise<DeviceReply> {
    const body = json === undefined ? undefined : JSON.stringify(json);
    return this.send(method, path, await this.headers(method, path, body ?? '', parts), body);
  }

  pushes(): Promise<DeviceReply> {
    return this.request('GET', '/v1/device/pushes');
  }

  answer(id: string, answer: { decision: 'approve' | 'deny'; number?: number; userVerified?: boolean }) {
    return this.request('POST', `/v1/device/pushes/${id}/answer`, answer);
  }
}

/** Reads Server-Sent Events from a signed `GET /v1/device/events` until `stop` says so. */
export async function readEvents(
  baseUrl: string,
  device: DeviceClient,
  onEvent: (event: string, data: Json) => boolean | undefined,
  signal?: AbortSignal,
): Promise<void> {
  const path = '/v1/device/events';
  const res = await fetch(`${baseUrl}${path}`, {
    headers: await device.headers('GET', path, ''),
    ...(signal ? { signal } : {}),
  });
  if (res.status !== 200 || !res.body) throw new Error(`events: ${res.status} ${await res.text()}`);
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let cut = buffer.indexOf('\n\n');
      while (cut >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        cut = buffer.indexOf('\n\n');
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data && onEvent(event, JSON.parse(data))) return;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
