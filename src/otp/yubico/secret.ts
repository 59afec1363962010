import { AES_KEY_BYTES, PRIVATE_ID_BYTES } from './token.ts';

/**
 * What is sealed as a YubiKey's seed: the AES key followed by the private id, so both stay secret
 * under the node's seed key like any other seed. The public id is not part of it.
 */
export interface YubikeySecret {
  aesKey: Uint8Array;
  privateId: Uint8Array;
}

export function packYubikeySecret(secret: YubikeySecret): Uint8Array {
  return Buffer.concat([secret.aesKey, secret.privateId]);
}

/** Null for anything that is not an AES key and a private id. */
export function unpackYubikeySecret(bytes: Uint8Array): YubikeySecret | null {
  if (bytes.length !== AES_KEY_BYTES + PRIVATE_ID_BYTES) return null;
  return { aesKey: bytes.subarray(0, AES_KEY_BYTES), privateId: bytes.subarray(AES_KEY_BYTES) };
}
