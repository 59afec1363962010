import { randomBytes } from 'node:crypto';
import { matchYubikey } from '../auth/yubikey-check.ts';
import {
  requireCanonicalUsername,
  TesseraError,
  type Token,
  type TokenStatus,
  type TokenType,
} from '../model/index.ts';
import {
  base32Decode,
  findHotpPair,
  findTotpPair,
  type OtpAlgorithm,
  type OtpDigits,
  otpauthUri,
  recommendedSecretBytes,
  timeStep,
} from '../otp/index.ts';
import { type AdminContext, auditChange } from './context.ts';

export interface TokenInput {
  type: 'totp' | 'hotp';
  secret?: string;
  algorithm?: OtpAlgorithm;
  digits?: OtpDigits;
  period?: 30 | 60;
  counter?: number;
  description?: string;
  isDefault?: boolean;
  serial?: string;
}

export interface Enrolment {
  token: Token;
  otpauthUri: string;
}

export type PublicToken = Omit<Token, 'secretSealed'>;

export function publicToken(token: Token): PublicToken {
  const { secretSealed: _, ...rest } = token;
  return rest;
}

function newSerial(type: TokenType): string {
  return `${type.toUpperCase()}${randomBytes(5).toString('hex').toUpperCase()}`;
}

type TokenHead = Pick<
  Token,
  'serial' | 'username' | 'type' | 'isDefault' | 'status' | 'createdAt' | 'updatedAt'
> &
  Pick<Token, 'description'>;

/** What every new token starts with: a free serial (given or made), its owner, the default flag (its first token), active. */
export async function newTokenHead(
  ctx: AdminContext,
  username: string,
  type: TokenType,
  input: { serial?: string; isDefault?: boolean; description?: string },
): Promise<TokenHead> {
  const serial = input.serial ?? newSerial(type);
  if (await ctx.store.getToken(serial))
    throw new TesseraError('CONFLICT', `token "${serial}" exists already`);
  const now = Date.now();
  return {
    serial,
    username,
    type,
    isDefault: input.isDefault ?? (await ctx.store.listTokens(username)).length === 0,
    status: 'active',
    createdAt: now,
    updatedAt: now,
    ...(input.description !== undefined ? { description: input.description } : {}),
  };
}

export async function enrolToken(ctx: AdminContext, name: string, input: TokenInput): Promise<Enrolment> {
  const username = requireCanonicalUsername(name);
  const user = await ctx.store.getUser(username);
  if (!user) throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
  const algorithm = input.algorithm ?? 'SHA1';
  let secret: Uint8Array;
  if (input.secret !== undefined) {
    const decoded = base32Decode(input.secret);
    if (!decoded || decoded.length < 10 || decoded.length > 128) {
      throw new TesseraError('BAD_REQUEST', 'secret must be base32 of 10 to 128 bytes');
    }
    // A constant seed (all zero bytes, a placeholder) gives codes anyone can compute.
    if (decoded.every((b) => b === decoded[0])) {
      throw new TesseraError('WEAK_SECRET', 'secret is one byte repeated; use a random seed');
    }
    secret = decoded;
  } else {
    secret = randomBytes(recommendedSecretBytes(algorithm));
  }
  const head = await newTokenHead(ctx, username, input.type, input);
  const serial = head.serial;
  const token: Token = {
    ...head,
    algorithm,
    digits: input.digits ?? 6,
    period: input.period ?? 30,
    secretSealed: ctx.keyring.seal(secret, serial),
  };
  if (!(await ctx.store.putToken(token)))
    throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
  if (input.type === 'hotp' && input.counter) {
    await ctx.store.advanceTokenState(serial, { counter: input.counter, lastUsedStep: -1, drift: 0 });
  }
  const settings = await ctx.settings();
  const uri = otpauthUri({
    type: input.type,
    issuer: settings.issuer,
    account: username,
    secret,
    algorithm,
    digits: token.digits,
    period: token.period,
    counter: input.counter ?? 0,
  });
  auditChange(ctx, 'token.enrol', { username, serial }, null, token);
  return { token, otpauthUri: uri };
}

async function ownedToken(ctx: AdminContext, name: string, serial: string): Promise<Token> {
  const username = requireCanonicalUsername(name);
  const token = await ctx.store.getToken(serial);
  if (!token || token.username !== username) {
    throw new TesseraError('NOT_FOUND', `user "${username}" has no token "${serial}"`);
  }
  return token;
}

export async function updateToken(
  ctx: AdminContext,
  username: string,
  serial: string,
  patch: { status?: TokenStatus; description?: string; isDefault?: boolean },
): Promise<Token> {
  const token = await ownedToken(ctx, username, serial);
  const next: Token = { ...token, ...patch, updatedAt: Date.now() };
  await ctx.store.putToken(next);
  auditChange(ctx, 'token.update', { username: token.username, serial }, token, next);
  return next;
}

export async function deleteToken(ctx: AdminContext, username: string, serial: string): Promise<void> {
  const token = await ownedToken(ctx, username, serial);
  await ctx.store.deleteToken(serial);
  auditChange(ctx, 'token.delete', { username: token.username, serial }, token, null);
}

/**
 * Two consecutive codes inside the wide resync window move the token to just after the second
 * one: a HOTP counter, a YubiKey's position, or a TOTP token's drift. Also clears a restore's
 * "resync required" mark.
 */
export async function resyncToken(
  ctx: AdminContext,
  username: string,
  serial: string,
  code1: string,
  code2: string,
  now = Date.now(),
): Promise<Token> {
  const token = await ownedToken(ctx, username, serial);
  if (token.type === 'yubikey') return resyncYubikey(ctx, token, code1, code2);
  const secret = ctx.keyring.open(token.secretSealed, token.serial);
  if (!secret)
    throw new TesseraError('INTERNAL', `token "${serial}" cannot be opened with the current key ring`);
  const settings = await ctx.settings();
  const state = await ctx.store.getTokenState(serial);
  const params = { secret, algorithm: token.algorithm, digits: token.digits };
  const w = settings.resyncWindow;
  if (token.type === 'hotp') {
    const first = findHotpPair(params, code1, code2, state.counter, state.counter + w);
    if (first === null)
      throw new TesseraError('RESYNC_FAILED', 'the two codes are not consecutive codes of this token');
    await ctx.store.advanceTokenState(serial, { counter: first + 2, lastUsedStep: -1, drift: 0 });
  } else {
    const current = timeStep(now, token.period);
    const from = Math.max(current - w, state.lastUsedStep + 1);
    const second = findTotpPair({ ...params, period: token.period }, code1, code2, from, current + w);
    if (second === null)
      throw new TesseraError('RESYNC_FAILED', 'the two codes are not consecutive codes of this token');
    await ctx.store.advanceTokenState(serial, { counter: 0, lastUsedStep: second, drift: second - current });
  }
  return resynced(ctx, token);
}

/**
 * A YubiKey: two OTPs the key types one after the other now (consecutive positions, at or past the
 * stored one) prove where its counters stand; the token then accepts only OTPs after the second.
 */
async function resyncYubikey(ctx: AdminContext, token: Token, otp1: string, otp2: string): Promise<Token> {
  const state = await ctx.store.getTokenState(token.serial);
  const position = (otp: string): number | null => {
    const m = matchYubikey(ctx.keyring, [token], () => state, otp, false);
    if (m.outcome === 'none' && m.unreadable.length > 0)
      throw new TesseraError(
        'INTERNAL',
        `token "${token.serial}" cannot be opened with the current key ring`,
      );
    return m.outcome === 'match' && m.advance.kind === 'yubikey' ? m.advance.counter : null;
  };
  const first = position(otp1);
  const second = position(otp2);
  if (first === null || second !== first + 1)
    throw new TesseraError('RESYNC_FAILED', 'the two OTPs are not consecutive OTPs of this key');
  await ctx.store.advanceTokenState(token.serial, { counter: second + 1, lastUsedStep: -1, drift: 0 });
  return resynced(ctx, token);
}

async function resynced(ctx: AdminContext, token: Token): Promise<Token> {
  const next: Token = { ...token, updatedAt: Date.now() };
  delete next.resyncRequired;
  await ctx.store.putToken(next);
  ctx.audit('token.resync', { username: token.username, serial: token.serial });
  return next;
}
