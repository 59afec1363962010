import { codesEqual, findHotpPair, hotp, isCodeShaped, type OtpParams } from './hotp.ts';

export interface TotpParams extends OtpParams {
  readonly period: 30 | 60;
}

/** The RFC 6238 time step for a moment (ms since the epoch), T0 = 0. */
export function timeStep(nowMs: number, period: number): number {
  return Math.floor(nowMs / 1000 / period);
}

export function totpAt(params: TotpParams, step: number): string {
  return hotp(params, step);
}

/**
 * Finds the step in [from, to] whose code equals `code`, nearest to `centre` first. Every candidate
 * is computed so the time taken does not depend on the match.
 */
export function findTotpStep(
  params: TotpParams,
  code: string,
  from: number,
  to: number,
  centre: number,
): number | null {
  if (!isCodeShaped(code, params.digits) || to < from) return null;
  let best: number | null = null;
  for (let s = from; s <= to; s++) {
    if (codesEqual(totpAt(params, s), code)) {
      if (best === null || Math.abs(s - centre) < Math.abs(best - centre)) best = s;
    }
  }
  return best;
}

/** Two consecutive TOTP codes: returns the step of the second one, or null. */
export function findTotpPair(
  params: TotpParams,
  code1: string,
  code2: string,
  from: number,
  to: number,
): number | null {
  const first = findHotpPair(params, code1, code2, from, to);
  return first === null ? null : first + 1;
}
