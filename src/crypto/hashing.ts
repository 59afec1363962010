import { hash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const PIN_N = 2 ** 14;
const PIN_R = 8;
const PIN_P = 1;

function scryptAsync(secret: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, 32, { N: n, r, p, maxmem: 256 * n * r }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Slow hash for PINs: `scrypt$N$r$p$salt$hash`. */
export async function hashPin(pin: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(pin, salt, PIN_N, PIN_R, PIN_P);
  return `scrypt$${PIN_N}$${PIN_R}$${PIN_P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPin(pin: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(pin, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * API key secrets are 32 random bytes, so a fast hash is enough (no dictionary to guess from);
 * comparing hashes constant-time keeps the check off the timing side channel.
 */
export function hashApiSecret(secret: string): string {
  return hash('sha256', secret, 'base64url'); // one-shot: no Hash object per request
}

export function apiSecretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiSecret(secret));
  const b = Buffer.from(storedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}
