import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { type DeviceInfo, TesseraError } from '../model/index.ts';

export type DevicePublicKey = NonNullable<DeviceInfo['publicKey']>;

const B64URL = /^[A-Za-z0-9_-]+$/;

/**
 * The text a device signs: `METHOD\nPATH(with query)\nTIMESTAMP\nNONCE\nbase64url(SHA-256(body))`.
 * The body hash binds the answer (approve or deny, the number) to the signature.
 */
export function signedText(
  method: string,
  pathWithQuery: string,
  timestamp: string,
  nonce: string,
  body: Uint8Array | string,
): string {
  const digest = createHash('sha256').update(body).digest('base64url');
  return `${method.toUpperCase()}\n${pathWithQuery}\n${timestamp}\n${nonce}\n${digest}`;
}

/**
 * A P-256 public JWK with only the fields a public key has: a private `d`, another curve or a
 * point off the curve is refused (node:crypto checks the point when it imports the key).
 */
export function devicePublicKey(jwk: unknown): DevicePublicKey {
  const bad = (why: string) => new TesseraError('BAD_REQUEST', `publicKey: ${why}`);
  if (typeof jwk !== 'object' || jwk === null) throw bad('must be a JWK object');
  const k = jwk as Record<string, unknown>;
  if ('d' in k) throw bad('must be the public key only');
  if (k.kty !== 'EC' || k.crv !== 'P-256') throw bad('must be an EC P-256 key');
  const { x, y } = k;
  if (typeof x !== 'string' || typeof y !== 'string' || !B64URL.test(x) || !B64URL.test(y))
    throw bad('x and y must be base64url');
  if (Buffer.from(x, 'base64url').length !== 32 || Buffer.from(y, 'base64url').length !== 32)
    throw bad('x and y must be 32 bytes each');
  const key: DevicePublicKey = { kty: 'EC', crv: 'P-256', x, y };
  try {
    createPublicKey({ key, format: 'jwk' });
  } catch {
    throw bad('is not a point on P-256');
  }
  return key;
}

const keyCache = new Map<string, KeyObject>();

function keyObject(jwk: DevicePublicKey): KeyObject {
  const id = `${jwk.x}.${jwk.y}`;
  let key = keyCache.get(id);
  if (!key) {
    key = createPublicKey({ key: jwk, format: 'jwk' });
    if (keyCache.size > 10_000) keyCache.clear();
    keyCache.set(id, key);
  }
  return key;
}

/** ECDSA P-256 / SHA-256 over `text`, the signature as WebCrypto makes it (IEEE P1363 r‖s, base64url). */
export function signatureValid(jwk: DevicePublicKey, text: string, signature: string): boolean {
  if (!B64URL.test(signature)) return false;
  const sig = Buffer.from(signature, 'base64url');
  if (sig.length !== 64) return false;
  try {
    return verify(
      'sha256',
      Buffer.from(text, 'utf8'),
      { key: keyObject(jwk), dsaEncoding: 'ieee-p1363' },
      sig,
    );
  } catch {
    return false;
  }
}
