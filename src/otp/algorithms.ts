export type OtpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';
export type OtpDigits = 6 | 8;

export const OTP_ALGORITHMS: readonly OtpAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];

/** node:crypto's name of the HMAC hash. */
export function hmacAlgorithm(a: OtpAlgorithm): 'sha1' | 'sha256' | 'sha512' {
  return a === 'SHA1' ? 'sha1' : a === 'SHA256' ? 'sha256' : 'sha512';
}

/** Recommended secret length per RFC 4226 §4 / RFC 6238 (the HMAC block's natural key size). */
export function recommendedSecretBytes(a: OtpAlgorithm): number {
  return a === 'SHA1' ? 20 : a === 'SHA256' ? 32 : 64;
}
