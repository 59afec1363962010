import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import { crc16, crcHolds } from './crc.ts';
import { modhexDecode, modhexEncode } from './modhex.ts';

export const AES_KEY_BYTES = 16;
export const PRIVATE_ID_BYTES = 6;
/** The encrypted part of every Yubico OTP: 16 bytes, 32 ModHex characters. */
export const TOKEN_CHARS = 32;
/** What the personalisation tool lets a public id be: 1 to 16 bytes (2 to 32 ModHex characters). */
export const MAX_PUBLIC_ID_BYTES = 16;

/** The fields of one decrypted token (all integers as the key wrote them, little-endian). */
export interface YubicoToken {
  privateId: Uint8Array;
  /** Non-volatile counter, moved on every power-up (its top bit, caps lock, removed). */
  usageCounter: number;
  /** Volatile counter of OTPs in this power-up, from 0; wraps by moving the usage counter on. */
  sessionCounter: number;
  /** 24-bit clock ticking at about 8 Hz from a random start at power-up. */
  timestamp: number;
  random: number;
  /** Caps lock was on when the key typed it (the top bit of the stored counter). */
  capsLock: boolean;
}

/**
 * Usage and session counter as one number that every newer OTP of the key makes larger: the
 * session counter restarts at each power-up, which moves the usage counter on.
 */
export function otpPosition(token: Pick<YubicoToken, 'usageCounter' | 'sessionCounter'>): number {
  return token.usageCounter * 256 + token.sessionCounter;
}

export type OtpParts =
  | { ok: true; publicId: string; cipher: Uint8Array }
  | { ok: false; problem: 'length' | 'modhex' };

/** Splits a typed OTP into its public id (ModHex, lower case) and the encrypted token. */
export function splitOtp(otp: string, publicIdChars: number): OtpParts {
  if (otp.length !== publicIdChars + TOKEN_CHARS) return { ok: false, problem: 'length' };
  const bytes = modhexDecode(otp);
  if (!bytes) return { ok: false, problem: 'modhex' };
  return {
    ok: true,
    publicId: otp.slice(0, publicIdChars).toLowerCase(),
    cipher: bytes.subarray(publicIdChars / 2),
  };
}

export type Decrypted = { ok: true; token: YubicoToken } | { ok: false; problem: 'crc' | 'private-id' };

/**
 * Decrypts one token (AES-128, one block) and checks it: the CRC first (a wrong key or a changed
 * character), then the private id, compared in constant time.
 */
export function decryptToken(cipher: Uint8Array, aesKey: Uint8Array, privateId: Uint8Array): Decrypted {
  if (cipher.length !== 16 || aesKey.length !== AES_KEY_BYTES || privateId.length !== PRIVATE_ID_BYTES)
    throw new RangeError('a Yubico token is 16 bytes under a 16-byte key with a 6-byte private id');
  const decipher = createDecipheriv('aes-128-ecb', aesKey, null).setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(cipher), decipher.final()]);
  if (!crcHolds(plain)) return { ok: false, problem: 'crc' };
  if (!timingSafeEqual(plain.subarray(0, PRIVATE_ID_BYTES), privateId))
    return { ok: false, problem: 'private-id' };
  const counter = plain.readUInt16LE(6);
  return {
    ok: true,
    token: {
      privateId: plain.subarray(0, PRIVATE_ID_BYTES),
      usageCounter: counter & 0x7fff,
      capsLock: (counter & 0x8000) !== 0,
      timestamp: plain.readUInt16LE(8) | (plain[10]! << 16),
      sessionCounter: plain[11]!,
      random: plain.readUInt16LE(12),
    },
  };
}

/**
 * Makes an OTP the way a key does (for tests and tools; a server never needs it). The CRC is the
 * one's complement of the CRC over the first 14 bytes, stored little-endian.
 */
export function generateOtp(
  publicId: string,
  aesKey: Uint8Array,
  fields: Omit<YubicoToken, 'capsLock'> & { capsLock?: boolean },
): string {
  const plain = Buffer.alloc(16);
  Buffer.from(fields.privateId).copy(plain, 0);
  plain.writeUInt16LE((fields.usageCounter & 0x7fff) | (fields.capsLock ? 0x8000 : 0), 6);
  plain.writeUInt16LE(fields.timestamp & 0xffff, 8);
  plain[10] = (fields.timestamp >>> 16) & 0xff;
  plain[11] = fields.sessionCounter & 0xff;
  plain.writeUInt16LE(fields.random & 0xffff, 12);
  plain.writeUInt16LE(~crc16(plain.subarray(0, 14)) & 0xffff, 14);
  const cipher = createCipheriv('aes-128-ecb', aesKey, null).setAutoPadding(false);
  return publicId + modhexEncode(Buffer.concat([cipher.update(plain), cipher.final()]));
}
