/**
 * Authentication state: written on every login, on every node. Each field is monotonic or has a
 * merge rule, so two copies written apart can be merged (see mergeTokenState / mergeUserState).
 */
export interface TokenState {
  /** HOTP: the next counter that may be accepted. Merge: max. */
  counter: number;
  /** TOTP: the last step accepted; codes at or before it are refused. Merge: max. */
  lastUsedStep: number;
  /** TOTP: learned clock drift in steps. Merge: the one from the copy with the larger lastUsedStep. */
  drift: number;
  /** Restore floor: TOTP steps at or before it are refused (same as lastUsedStep, kept for audit). */
}

export const EMPTY_TOKEN_STATE: TokenState = { counter: 0, lastUsedStep: -1, drift: 0 };

export interface UserAuthState {
  /** Consecutive failures since the last success. */
  failures: number;
  /** Epoch ms until which the user is locked; 0 when not locked. */
  lockedUntil: number;
  /** Number of locks since the last success, for the doubling backoff. */
  lockCount: number;
  /** Start (epoch ms) of the current throttle window and failures inside it. */
  windowStart: number;
  windowFailures: number;
  /** Epoch ms of the last success; a later success resets failures when merging. */
  lastSuccess: number;
}

export const EMPTY_USER_STATE: UserAuthState = {
  failures: 0,
  lockedUntil: 0,
  lockCount: 0,
  windowStart: 0,
  windowFailures: 0,
  lastSuccess: 0,
};

/** How an accepted code moves a token forward. */
export type TokenAdvance = { kind: 'totp'; step: number; drift: number } | { kind: 'hotp'; counter: number };

export function mergeTokenState(a: TokenState, b: TokenState): TokenState {
  return {
    counter: Math.max(a.counter, b.counter),
    lastUsedStep: Math.max(a.lastUsedStep, b.lastUsedStep),
    drift: a.lastUsedStep >= b.lastUsedStep ? a.drift : b.drift,
  };
}

/** True when applying `advance` to `state` moves it forward (so the code was not used before). */
export function advances(state: TokenState, advance: TokenAdvance): boolean {
  return advance.kind === 'totp' ? advance.step > state.lastUsedStep : advance.counter >= state.counter;
}

export function applyAdvance(state: TokenState, advance: TokenAdvance): TokenState {
  return advance.kind === 'totp'
    ? { ...state, lastUsedStep: advance.step, drift: advance.drift }
    : { ...state, counter: advance.counter + 1 };
}

/** The failure bookkeeping shared by every store: one failed attempt at `now`. */
export function applyFailure(
  s: UserAuthState,
  now: number,
  lockout: { threshold: number; baseSeconds: number; maxSeconds: number },
  windowMs: number,
): UserAuthState {
  const inWindow = now - s.windowStart < windowMs;
  const failures = s.failures + 1;
  const next: UserAuthState = {
    ...s,
    failures,
    windowStart: inWindow ? s.windowStart : now,
    windowFailures: inWindow ? s.windowFailures + 1 : 1,
  };
  if (lockout.threshold > 0 && failures >= lockout.threshold) {
    const seconds = Math.min(lockout.maxSeconds, lockout.baseSeconds * 2 ** s.lockCount);
    next.lockedUntil = now + seconds * 1000;
    next.lockCount = s.lockCount + 1;
    next.failures = 0;
  }
  return next;
}

export function applySuccess(s: UserAuthState, now: number): UserAuthState {
  return { ...s, failures: 0, lockCount: 0, lockedUntil: 0, windowFailures: 0, lastSuccess: now };
}
