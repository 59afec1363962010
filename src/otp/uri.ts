import type { OtpAlgorithm, OtpDigits } from './algorithms.ts';
import { base32Encode } from './base32.ts';

export interface OtpauthUriInput {
  readonly type: 'totp' | 'hotp';
  readonly issuer: string;
  readonly account: string;
  readonly secret: Uint8Array;
  readonly algorithm: OtpAlgorithm;
  readonly digits: OtpDigits;
  readonly period?: number;
  readonly counter?: number;
}

/** The Key Uri Format understood by Google Authenticator, FreeOTP, Aegis and others. */
export function otpauthUri(input: OtpauthUriInput): string {
  const label = `${encodeURIComponent(input.issuer)}:${encodeURIComponent(input.account)}`;
  const query = new URLSearchParams({
    secret: base32Encode(input.secret),
    issuer: input.issuer,
    algorithm: input.algorithm,
    digits: String(input.digits),
  });
  if (input.type === 'totp') query.set('period', String(input.period ?? 30));
  else query.set('counter', String(input.counter ?? 0));
  return `otpauth://${input.type}/${label}?${query.toString()}`;
}
