import { createHmac, timingSafeEqual } from 'node:crypto';
import { hmacAlgorithm, type OtpAlgorithm, type OtpDigits } from './algorithms.ts';

export interface OtpParams {
  readonly secret: Uint8Array;
  readonly algorithm: OtpAlgorithm;
  readonly digits: OtpDigits;
}

/**
 * Tokens are enrolled with secrets of 10 to 128 bytes (80 bits is what many authenticator apps and
 * imported tokens carry). otplib's defaults (16 to 64 bytes) made every code check of a token
 * outside them throw (a 500 on resync), so the bounds here are the enrolment's.
 */
export const MIN_SECRET_BYTES = 10;
export const MAX_SECRET_BYTES = 128;
const MODULUS: Record<OtpDigits, number> = { 6: 1_000_000, 8: 100_000_000 };

/**
 * RFC 4226 HOTP value for one counter: one HMAC straight from node:crypto (OpenSSL). A validation
 * computes three or more of these; otplib's generic path around the same HMAC cost twice as much.
 * The RFC 4226/6238 vectors (rfc-vectors.test.ts) hold it to the standard.
 */
export function hotp(params: OtpParams, counter: number): string {
  const bytes = params.secret.length;
  if (bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES)
    throw new RangeError(
      `the secret is ${bytes} bytes; ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} are allowed`,
    );
  if (!Number.isSafeInteger(counter) || counter < 0)
    throw new RangeError('the counter must be a whole number >= 0');
  const message = Buffer.allocUnsafe(8);
  message.writeUInt32BE(Math.floor(counter / 0x1_0000_0000), 0);
  message.writeUInt32BE(counter >>> 0, 4);
  const mac = createHmac(hmacAlgorithm(params.algorithm), params.secret).update(message).digest();
  const at = mac[mac.length - 1]! & 0x0f;
  const value = (mac.readUInt32BE(at) & 0x7fffffff) % MODULUS[params.digits];
  return String(value).padStart(params.digits, '0');
}

/** Constant-time comparison of two codes of any length. */
export function codesEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

/**
 * Finds the first counter in [from, to] whose code equals `code`. Every candidate is computed and
 * compared, so the time taken does not reveal where (or whether) the match was.
 */
export function findHotpCounter(params: OtpParams, code: string, from: number, to: number): number | null {
  if (!isCodeShaped(code, params.digits)) return null;
  let found: number | null = null;
  for (let c = Math.max(0, from); c <= to; c++) {
    if (codesEqual(hotp(params, c), code) && found === null) found = c;
  }
  return found;
}

/** Finds c in [from, to] such that code1 is the code for c and code2 the one for c + 1. */
export function findHotpPair(
  params: OtpParams,
  code1: string,
  code2: string,
  from: number,
  to: number,
): number | null {
  if (!isCodeShaped(code1, params.digits) || !isCodeShaped(code2, params.digits)) return null;
  let previousMatched = false;
  for (let c = Math.max(0, from); c <= to + 1; c++) {
    const value = hotp(params, c);
    if (previousMatched && codesEqual(value, code2)) return c - 1;
    previousMatched = c <= to && codesEqual(value, code1);
  }
  return null;
}

export function isCodeShaped(code: string, digits: number): boolean {
  return code.length === digits && /^[0-9]+$/.test(code);
}
