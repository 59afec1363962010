// Yubico OTP: ModHex, the AES-128 token, its CRC and counters. Pure functions; no I/O, no state.
export * from './crc.ts';
export * from './modhex.ts';
export * from './secret.ts';
export * from './token.ts';
