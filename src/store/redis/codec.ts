import {
  EMPTY_TOKEN_STATE,
  EMPTY_USER_STATE,
  type TokenState,
  type UserAuthState,
} from '../../model/index.ts';

/** Token state as the Lua scripts keep it: "counter,lastUsedStep,drift". */
export function decodeTokenState(raw: string | null | undefined): TokenState {
  if (!raw) return { ...EMPTY_TOKEN_STATE };
  const [counter, lastUsedStep, drift] = raw.split(',').map(Number);
  return { counter: counter ?? 0, lastUsedStep: lastUsedStep ?? -1, drift: drift ?? 0 };
}

export function encodeTokenState(s: TokenState): string {
  return `${Math.trunc(s.counter)},${Math.trunc(s.lastUsedStep)},${Math.trunc(s.drift)}`;
}

export function tokenStateFromReply(reply: unknown): TokenState {
  const [counter, lastUsedStep, drift] = (reply as number[]).map(Number);
  return { counter: counter ?? 0, lastUsedStep: lastUsedStep ?? -1, drift: drift ?? 0 };
}

/** User state: "failures,lockedUntil,lockCount,windowStart,windowFailures,lastSuccess". */
export function decodeUserState(raw: string | null | undefined): UserAuthState {
  if (!raw) return { ...EMPTY_USER_STATE };
  return userStateFromReply(raw.split(','));
}

export function encodeUserState(s: UserAuthState): string {
  return [s.failures, s.lockedUntil, s.lockCount, s.windowStart, s.windowFailures, s.lastSuccess]
    .map((n) => Math.trunc(n))
    .join(',');
}

export function userStateFromReply(reply: unknown): UserAuthState {
  const [failures, lockedUntil, lockCount, windowStart, windowFailures, lastSuccess] = (
    reply as unknown[]
  ).map(Number);
  return {
    failures: failures ?? 0,
    lockedUntil: lockedUntil ?? 0,
    lockCount: lockCount ?? 0,
    windowStart: windowStart ?? 0,
    windowFailures: windowFailures ?? 0,
    lastSuccess: lastSuccess ?? 0,
  };
}

export function parseJson<T>(raw: string): T {
  return JSON.parse(raw) as T;
}
