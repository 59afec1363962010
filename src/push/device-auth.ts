import { TesseraError, type Token } from '../model/index.ts';
import type { Store } from '../store/index.ts';
import { signatureValid, signedText } from './signature.ts';

/** Clock difference a device may have; a nonce is kept a little longer than a request stays valid. */
export const MAX_SKEW_MS = 60_000;
const NONCE_TTL_MS = 2 * MAX_SKEW_MS + 10_000;
const NONCE = /^[A-Za-z0-9_-]{22}$/;

export interface SignedRequest {
  method: string;
  /** Path with query, as the device sent it. */
  path: string;
  device?: string;
  timestamp?: string;
  nonce?: string;
  signature?: string;
  body: Uint8Array | string;
}

/**
 * Who signed this request: the active, paired push token named by `X-Tessera-Device`, whose key
 * verifies the signature over method, path, timestamp, nonce and body hash; the timestamp within
 * the skew and the nonce never seen before (the store keeps it, so every node refuses a replay).
 * Any failure is the same DEVICE_UNAUTHORIZED, saying only which check failed.
 */
export async function authenticateDevice(store: Store, req: SignedRequest, now = Date.now()): Promise<Token> {
  const refuse = (why: string) => new TesseraError('DEVICE_UNAUTHORIZED', `device request refused: ${why}`);
  const { device, timestamp, nonce, signature } = req;
  if (!device || !timestamp || !nonce || !signature) throw refuse('signature headers missing');
  if (device.length > 64 || !/^[0-9]{1,15}$/.test(timestamp) || !NONCE.test(nonce))
    throw refuse('malformed signature headers');
  if (Math.abs(now - Number(timestamp)) > MAX_SKEW_MS)
    throw refuse('timestamp outside the allowed clock skew');
  const token = await store.getToken(device);
  const key = token?.device?.publicKey;
  if (token?.type !== 'push' || token.status !== 'active' || !key) throw refuse('unknown device');
  if (!signatureValid(key, signedText(req.method, req.path, timestamp, nonce, req.body), signature))
    throw refuse('bad signature');
  // only after the signature: nobody else can spend a device's nonces
  if (!(await store.push.claimNonce(`${device}:${nonce}`, NONCE_TTL_MS))) throw refuse('nonce used before');
  return token;
}
