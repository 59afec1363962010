import { randomBytes } from 'node:crypto';
import { requireCanonicalUsername, TesseraError, type Token } from '../model/index.ts';
import {
  AES_KEY_BYTES,
  hexToModhex,
  isModhex,
  MAX_PUBLIC_ID_BYTES,
  PRIVATE_ID_BYTES,
  packYubikeySecret,
} from '../otp/yubico/index.ts';
import { type AdminContext, auditChange } from './context.ts';

/** A Yubico OTP key as the personalisation tool writes it: public id ModHex, private id and AES key hex. */
export interface YubikeyInput {
  publicId: string;
  privateId: string;
  aesKey: string;
  description?: string;
  isDefault?: boolean;
}

/** The public id as ModHex, lower case (the tool may show it as hex); null when it is neither. */
export function normalPublicId(text: string): string | null {
  const clean = text.replace(/\s+/g, '').toLowerCase();
  if (clean.length < 2 || clean.length > 2 * MAX_PUBLIC_ID_BYTES) return null;
  if (isModhex(clean)) return clean;
  // Hex with a digit or an "a" cannot be ModHex; the tool's "public id in hex" setting writes that.
  return /[0-9a]/.test(clean) ? hexToModhex(clean) : null;
}

function hexBytes(text: string, bytes: number, what: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  if (clean.length !== 2 * bytes || !/^[0-9a-f]+$/i.test(clean))
    throw new TesseraError('BAD_REQUEST', `${what} must be ${bytes} bytes in hex`);
  return Buffer.from(clean, 'hex');
}

/** The default serial names the key by its public id, so one key cannot be enrolled twice. */
export function yubikeySerial(publicId: string): string {
  return `YK${publicId}`;
}

/**
 * Builds a YubiKey token: the AES key and private id sealed together with the node's seed key
 * (the public id stays in the clear to find the key from its OTPs). Throws BAD_REQUEST or
 * WEAK_SECRET for values no key should carry.
 */
export function yubikeyToken(
  ctx: Pick<AdminContext, 'keyring'>,
  username: string,
  input: YubikeyInput,
  now: number,
): Token {
  const publicId = normalPublicId(input.publicId);
  if (!publicId) throw new TesseraError('BAD_REQUEST', 'publicId must be ModHex of 1 to 16 bytes');
  const aesKey = hexBytes(input.aesKey, AES_KEY_BYTES, 'aesKey');
  const privateId = hexBytes(input.privateId, PRIVATE_ID_BYTES, 'privateId');
  // A constant key (all zero bytes, a placeholder) lets anyone make this key's OTPs.
  if (aesKey.every((b) => b === aesKey[0]))
    throw new TesseraError('WEAK_SECRET', 'aesKey is one byte repeated; program the key with a random one');
  // Never chosen by the caller: one key under two serials would keep two counters, and an OTP
  // spent under one would be accepted again under the other.
  const serial = yubikeySerial(publicId);
  return {
    serial,
    username,
    type: 'yubikey',
    publicId,
    isDefault: input.isDefault ?? false,
    status: 'active',
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    secretSealed: ctx.keyring.seal(packYubikeySecret({ aesKey, privateId }), serial),
    createdAt: now,
    updatedAt: now,
    ...(input.description !== undefined ? { description: input.description } : {}),
  };
}

/** Enrols a YubiKey (Yubico OTP) for a user; its counters start at the first OTP it sends. */
export async function enrolYubikey(ctx: AdminContext, name: string, input: YubikeyInput): Promise<Token> {
  const username = requireCanonicalUsername(name);
  if (!(await ctx.store.getUser(username)))
    throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
  const built = yubikeyToken(ctx, username, input, Date.now());
  if (await ctx.store.getToken(built.serial))
    throw new TesseraError('CONFLICT', `token "${built.serial}" exists already`);
  const token: Token = {
    ...built,
    isDefault: input.isDefault ?? (await ctx.store.listTokens(username)).length === 0,
  };
  if (!(await ctx.store.putToken(token)))
    throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
  auditChange(ctx, 'token.enrol', { username, serial: token.serial }, null, token);
  return token;
}

/** A random key for tests and demos: what the personalisation tool's "generate" buttons make. */
export function randomYubikey(): { publicId: string; privateId: string; aesKey: string } {
  return {
    publicId: hexToModhex(`ff${randomBytes(5).toString('hex')}`) ?? '',
    privateId: randomBytes(PRIVATE_ID_BYTES).toString('hex'),
    aesKey: randomBytes(AES_KEY_BYTES).toString('hex'),
  };
}
