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
}

export const EMPTY_TOKEN_STATE: TokenState = { counter: 0, lastUsedStep: -1, drift: 0 };

/**
 * A token's state by serial (undefined: none stored). A lookup, not an object keyed by serial: an
 * object given a property named after each login's serial makes V8 build a hidden class per serial
 * in the old generation, which only a full (mark-compact) collection frees.
 */
export type TokenStateOf = (serial: string) => TokenState | undefined;

export interface UserAuthState {
  /**
   * Attempts counted since the last success or lock: reserved ones still being evaluated and the
   * failed ones (see reserveAttempt). Merge: reset by a later success.
   */
  failures: number;
  /** Epoch ms until which the user is locked; 0 when not locked. */
  lockedUntil: number;
  /** Number of locks since the last success, for the doubling backoff. */
  lockCount: number;
  /** Start (epoch ms) of the current throttle window and the attempts counted inside it. */
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
export type TokenAdvance =
  | { kind: 'totp'; step: number; drift: number }
  | { kind: 'hotp'; counter: number }
  /** Yubico OTP: usage and session counter as one position (src/otp/yubico otpPosition); kept like a HOTP counter. */
  | { kind: 'yubikey'; counter: number };

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

/** The limits an attempt is reserved against (settings.lockout and settings.throttle). */
export interface AttemptPolicy {
  lockout: { threshold: number; baseSeconds: number; maxSeconds: number };
  windowMs: number;
  /** Attempts allowed per user per window; 0 switches the throttle off. */
  failuresPerWindow: number;
}

/** What a granted reservation remembers, so that a refund can tell whether its count still stands. */
export interface AttemptTicket {
  windowStart: number;
  lockCount: number;
  lastSuccess: number;
}

export type Reservation =
  | { granted: true; ticket: AttemptTicket; state: UserAuthState }
  | { granted: false; refusal: 'locked' | 'throttled'; state: UserAuthState };

/**
 * Reserves one attempt before anything is evaluated: the attempt counts as a failure (and in the
 * throttle window) from here on, until a success resets it or a refund gives it back. So parallel
 * requests can never evaluate more guesses than the limits allow. `changed` says whether the state
 * must be written.
 */
export function reserveAttempt(
  s: UserAuthState,
  now: number,
  policy: AttemptPolicy,
): { reservation: Reservation; changed: boolean } {
  if (s.lockedUntil > now)
    return { reservation: { granted: false, refusal: 'locked', state: s }, changed: false };
  const inWindow = now - s.windowStart < policy.windowMs;
  const windowFailures = inWindow ? s.windowFailures : 0;
  if (policy.failuresPerWindow > 0 && windowFailures >= policy.failuresPerWindow) {
    return { reservation: { granted: false, refusal: 'throttled', state: s }, changed: false };
  }
  if (policy.lockout.threshold > 0 && s.failures >= policy.lockout.threshold) {
    // The threshold is reached by attempts already counted (still being evaluated, or left by a
    // lowered threshold or a crash): that is a lock, not a wait that could last for ever.
    const locked = lock(s, now, policy.lockout);
    return { reservation: { granted: false, refusal: 'locked', state: locked }, changed: true };
  }
  const next: UserAuthState = {
    ...s,
    failures: s.failures + 1,
    windowStart: inWindow ? s.windowStart : now,
    windowFailures: windowFailures + 1,
  };
  const ticket = { windowStart: next.windowStart, lockCount: next.lockCount, lastSuccess: next.lastSuccess };
  return { reservation: { granted: true, ticket, state: next }, changed: true };
}

/**
 * A reserved attempt that failed: it is counted already, so this only decides the lock. Of several
 * failures evaluated in parallel, the first that finds the threshold reached locks (and restarts
 * the count); the others find the count restarted.
 */
export function settleFailure(
  s: UserAuthState,
  now: number,
  lockout: AttemptPolicy['lockout'],
): UserAuthState {
  if (lockout.threshold > 0 && s.failures >= lockout.threshold && s.lockedUntil <= now) {
    return lock(s, now, lockout);
  }
  return s;
}

/**
 * Gives a reserved attempt back (a proved PIN that leads to a challenge, a seed this node cannot
 * open, an overloaded PIN check). Only what the reservation itself added: nothing when a lock or a
 * success since then restarted the count, and the window only if it is still the same window.
 */
export function refundAttempt(s: UserAuthState, ticket: AttemptTicket): UserAuthState {
  if (s.lockCount !== ticket.lockCount || s.lastSuccess !== ticket.lastSuccess) return s;
  return {
    ...s,
    failures: Math.max(0, s.failures - 1),
    windowFailures:
      s.windowStart === ticket.windowStart ? Math.max(0, s.windowFailures - 1) : s.windowFailures,
  };
}

/** An accept is possible only while the user is not locked; the store checks this atomically. */
export function acceptAllowed(s: UserAuthState, now: number): boolean {
  return s.lockedUntil <= now;
}

function lock(s: UserAuthState, now: number, lockout: AttemptPolicy['lockout']): UserAuthState {
  const seconds = Math.min(lockout.maxSeconds, lockout.baseSeconds * 2 ** s.lockCount);
  return { ...s, lockedUntil: now + seconds * 1000, lockCount: s.lockCount + 1, failures: 0 };
}

/** A success resets the count (its own reserved attempt included) and the lock backoff. */
export function applySuccess(s: UserAuthState, now: number): UserAuthState {
  return { ...s, failures: 0, lockCount: 0, lockedUntil: 0, windowFailures: 0, lastSuccess: now };
}
