import { timingSafeEqual } from 'node:crypto';
import { generateSync } from '@otplib/hotp';
import { createGuardrails } from 'otplib';
import { nodeCrypto, type OtpAlgorithm, type OtpDigits, otplibAlgorithm } from './algorithms.ts';

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
const GUARDRAILS = createGuardrails({ MIN_SECRET_BYTES, MAX_SECRET_BYTES });

/** RFC 4226 HOTP value for one counter. */
export function hotp(params: OtpParams, counter: number): string {
  return generateSync({
    guardrails: GUARDRAILS,
    secret: params.secret,
    counter,
    algorithm: otplibAlgorithm(params.algorithm),
    digits: params.digits,
    crypto: nodeCrypto,
  });
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
