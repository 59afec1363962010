import { matchCode } from '../auth/code-check.ts';
import type { AttemptPolicy, Settings, Token } from '../model/index.ts';
import type { SelfServiceContext } from './context.ts';
import { nowOf } from './context.ts';

export type ProofResult = 'ok' | 'invalid' | 'reused' | 'locked' | 'throttled';

function attemptPolicy(settings: Settings): AttemptPolicy {
  return {
    lockout: settings.lockout,
    windowMs: settings.throttle.windowSeconds * 1000,
    failuresPerWindow: settings.throttle.failuresPerWindow,
  };
}

/**
 * Checks a code of one token (a pending one included) the way a login does: an attempt is reserved
 * first (lockout and throttle apply), a match moves the token's state forward atomically (a code
 * proves once), and a miss counts as a failed login.
 */
export async function proveCode(ctx: SelfServiceContext, token: Token, code: string): Promise<ProofResult> {
  const settings = await ctx.settings();
  const now = nowOf(ctx);
  const username = token.username;
  const failures = { lockout: settings.lockout, windowMs: settings.throttle.windowSeconds * 1000 };
  const reservation = await ctx.store.reserveAttempt(username, now, attemptPolicy(settings));
  if (!reservation.granted) return reservation.refusal;
  const state = await ctx.store.getTokenState(token.serial);
  const match = matchCode(ctx.keyring, [token], () => state, code.trim(), settings, now);
  if (match.outcome === 'match') {
    if (await ctx.store.commitAccept(username, token.serial, match.advance, now)) return 'ok';
    const after = await ctx.store.commitFailure(username, now, failures);
    return after.lockedUntil > now ? 'locked' : 'reused';
  }
  const after = await ctx.store.commitFailure(username, now, failures);
  if (after.lockedUntil > now) return 'locked';
  return match.outcome === 'reused' ? 'reused' : 'invalid';
}
