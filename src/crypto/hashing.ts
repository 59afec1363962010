import { hash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { WorkQueue } from './work-queue.ts';

const PIN_N = 2 ** 14;
const PIN_R = 8;
const PIN_P = 1;

/**
 * Every scrypt of this process runs through this queue. Two at a time leave half of libuv's
 * default four threads to LMDB and file work; at about 50 ms per scrypt, sixteen waiting PIN
 * checks are under a second of wait. Beyond that a PIN check is refused, not queued.
 */
export const pinHashing = new WorkQueue(2, 16);

let scryptRuns = 0;

/** How many scrypt evaluations this process has run (tests prove uniform work with it). */
export function scryptRunCount(): number {
  return scryptRuns;
}

function scryptAsync(secret: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptRuns++;
    scrypt(secret, salt, 32, { N: n, r, p, maxmem: 256 * n * r }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Slow hash for PINs: `scrypt$N$r$p$salt$hash`. Waits for its turn however long the queue is. */
export async function hashPin(pin: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await pinHashing.run(() => scryptAsync(pin, salt, PIN_N, PIN_R, PIN_P), { mayShed: false });
  return `scrypt$${PIN_N}$${PIN_R}$${PIN_P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPin(pin: string, stored: string): Promise<boolean> {
  return (await verifyPinCandidates([pin], stored))[0] === true;
}

/**
 * Checks each candidate against the stored hash: one scrypt per candidate, always all of them and
 * in order, so the work depends on the number of candidates only, never on which one (if any) is
 * the PIN. One queue slot for the lot; throws WorkQueueFull when the queue is full.
 */
export async function verifyPinCandidates(candidates: string[], stored: string): Promise<boolean[]> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return candidates.map(() => false);
  const expected = Buffer.from(hash, 'base64');
  const saltBytes = Buffer.from(salt, 'base64');
  return pinHashing.run(async () => {
    const results: boolean[] = [];
    for (const candidate of candidates) {
      const actual = await scryptAsync(candidate, saltBytes, Number(n), Number(r), Number(p));
      results.push(actual.length === expected.length && timingSafeEqual(actual, expected));
    }
    return results;
  });
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
