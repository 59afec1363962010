import { createHash, randomBytes, randomInt } from 'node:crypto';
import {
  type CodeRedemption,
  requireCanonicalUsername,
  TesseraError,
  type UserCodes,
} from '../model/index.ts';
import type { Store } from '../store/index.ts';
import { humanTime, nowOf, type SelfServiceContext } from './context.ts';

/** Lower-case RFC 4648 base32 letters: no 0, 1, 8 or 9 to mistake. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
/** 12 characters of 32: 60 bits each, typed as `xxxx-xxxx-xxxx`. */
const CODE_LENGTH = 12;
export const RECOVERY_SET_SIZE = 10;

/** What a person may type: any case, with or without the dashes and spaces shown. */
export function normaliseCode(typed: string): string {
  return typed.toLowerCase().replace(/[\s-]/g, '');
}

/**
 * Whether a pass has the shape of a recovery or temporary code. An OTP never has (it is digits
 * only), so such a pass is never also tried as an OTP, and the other way round.
 */
export function looksLikeOneTimeCode(pass: string): boolean {
  const code = normaliseCode(pass);
  return code.length === CODE_LENGTH && /^[a-z2-7]+$/.test(code) && /[a-z]/.test(code);
}

function newCode(): string {
  let raw = '';
  // at least one letter, so the code is never mistaken for digits (one redraw in ~2^25 tries)
  while (!/[a-z]/.test(raw))
    raw = Array.from({ length: CODE_LENGTH }, () => ALPHABET[randomInt(32)]).join('');
  return raw;
}

export function formatCode(code: string): string {
  return code.match(/.{1,4}/g)!.join('-');
}

export function codeHash(salt: string, code: string): string {
  return createHash('sha256')
    .update(`${salt}:${normaliseCode(code)}`)
    .digest('hex');
}

/** The user's codes record, only if it belongs to this incarnation of the user. */
async function currentCodes(
  store: Store,
  username: string,
): Promise<{ codes: UserCodes | null; createdAt: number } | null> {
  const user = await store.getUser(username);
  if (!user) return null;
  const codes = await store.getUserCodes(username);
  return { codes: codes && codes.userCreatedAt === user.createdAt ? codes : null, createdAt: user.createdAt };
}

async function base(ctx: SelfServiceContext, name: string): Promise<UserCodes> {
  const username = requireCanonicalUsername(name);
  const found = await currentCodes(ctx.store, username);
  if (!found) throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
  return found.codes ?? { username, userCreatedAt: found.createdAt, salt: randomBytes(16).toString('hex') };
}

/** A new set of recovery codes, shown this once; the old set stops working. */
export async function generateRecoveryCodes(ctx: SelfServiceContext, name: string): Promise<string[]> {
  const codes = await base(ctx, name);
  const plain = Array.from({ length: RECOVERY_SET_SIZE }, newCode);
  await ctx.store.putUserCodes({
    ...codes,
    recovery: {
      createdAt: nowOf(ctx),
      total: plain.length,
      hashes: plain.map((c) => codeHash(codes.salt, c)),
    },
  });
  ctx.audit('recovery-codes.generate', { username: codes.username, count: String(plain.length) });
  const user = await ctx.store.getUser(codes.username);
  ctx.notifier.send('recovery-codes-regenerated', user?.email, {
    name: user?.displayName ?? codes.username,
    count: plain.length,
    when: humanTime(nowOf(ctx)),
  });
  return plain.map(formatCode);
}

export async function recoveryCodesLeft(
  store: Store,
  username: string,
): Promise<{ left: number; total: number; createdAt?: number }> {
  const found = await currentCodes(store, username);
  const r = found?.codes?.recovery;
  return r ? { left: r.hashes.length, total: r.total, createdAt: r.createdAt } : { left: 0, total: 0 };
}

/** A helpdesk's temporary code for a user without a device: one-time, or any number of times until it expires. */
export async function issueTemporaryCode(
  ctx: SelfServiceContext,
  name: string,
  opts: { oneTime: boolean; validMinutes: number; mailTo?: string },
): Promise<{ code: string; expiresAt: number; oneTime: boolean; mailed: boolean }> {
  const codes = await base(ctx, name);
  const code = newCode();
  const now = nowOf(ctx);
  const expiresAt = now + opts.validMinutes * 60_000;
  await ctx.store.putUserCodes({
    ...codes,
    temporary: {
      hash: codeHash(codes.salt, code),
      createdAt: now,
      expiresAt,
      oneTime: opts.oneTime,
      createdBy: ctx.actor,
    },
  });
  const user = await ctx.store.getUser(codes.username);
  const mailed = opts.mailTo
    ? ctx.notifier.send('temporary-code', opts.mailTo, {
        name: user?.displayName ?? codes.username,
        issuer: (await ctx.settings()).issuer,
        code: formatCode(code),
        oneTime: opts.oneTime,
        until: humanTime(expiresAt),
      })
    : false;
  ctx.audit('temporary-code.issue', {
    username: codes.username,
    oneTime: String(opts.oneTime),
    expiresAt: new Date(expiresAt).toISOString(),
    ...(opts.mailTo ? { mailedTo: opts.mailTo } : {}),
  });
  return { code: formatCode(code), expiresAt, oneTime: opts.oneTime, mailed };
}

export interface RedemptionHooks {
  /** After a recovery code was used: how many are left (for the user's mail and metrics). */
  onRecoveryUsed?(username: string, left: number): void;
  onTemporaryUsed?(username: string): void;
}

/**
 * What the validator asks (src/auth/validator-one-time.ts): is this pass one of the user's
 * recovery or temporary codes? Atomically spends it (and resets the failure count) when it is.
 */
export function oneTimeCodeChecker(store: Store, hooks: RedemptionHooks = {}) {
  return {
    matches: looksLikeOneTimeCode,
    async redeem(username: string, pass: string, now: number): Promise<CodeRedemption> {
      const found = await currentCodes(store, username);
      if (!found?.codes) return 'none';
      const result = await store.redeemUserCode(username, codeHash(found.codes.salt, pass), now);
      if (result === 'recovery') {
        const left = (found.codes.recovery?.hashes.length ?? 1) - 1;
        hooks.onRecoveryUsed?.(username, left);
      }
      if (result === 'temporary') hooks.onTemporaryUsed?.(username);
      return result;
    },
  };
}
