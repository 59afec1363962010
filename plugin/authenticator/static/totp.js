// TOTP (RFC 6238) with WebCrypto: the HMAC key is imported non-extractable at pairing and kept in
// IndexedDB, so codes are made with the network off and the secret is never readable again.

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Base32 (RFC 4648, padding and spaces ignored) to bytes; null when it is not base32. */
export function base32Decode(text) {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const i = BASE32.indexOf(ch);
    if (i < 0) return null;
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return new Uint8Array(out);
}

const HASH = { SHA1: 'SHA-1', SHA256: 'SHA-256', SHA512: 'SHA-512' };

/** A non-extractable HMAC key for the secret the server sent at pairing. */
export async function importTotpKey(secretBase32, algorithm) {
  const secret = base32Decode(secretBase32);
  const hash = HASH[algorithm];
  if (!secret || secret.length < 10 || !hash) throw new Error('the pairing answer has no usable TOTP secret');
  return crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash }, false, ['sign']);
}

/** The code of a time step (RFC 4226 dynamic truncation). */
export async function codeAt(key, digits, step) {
  const counter = new Uint8Array(8);
  new DataView(counter.buffer).setBigUint64(0, BigInt(step));
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, counter));
  const offset = mac[mac.length - 1] & 0x0f;
  const binary =
    ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The code shown now and the seconds it stays valid. */
export async function currentCode(key, digits, period, now = Date.now()) {
  const step = Math.floor(now / 1000 / period);
  const left = period - (Math.floor(now / 1000) % period);
  return { code: await codeAt(key, digits, step), secondsLeft: left };
}
