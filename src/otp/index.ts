// Pure one-time-password algorithms (HOTP, TOTP, secrets, otpauth URIs); no I/O, no state.
export * from './algorithms.ts';
export * from './base32.ts';
export * from './hotp.ts';
export * from './totp.ts';
export * from './uri.ts';
