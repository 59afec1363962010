import type { KeyRing } from '../crypto/index.ts';
import type { ReasonCode, Settings, Token, TokenAdvance, TokenStateOf } from '../model/index.ts';
import { findHotpCounter, findTotpStep, timeStep } from '../otp/index.ts';
import { matchYubikey, type YubikeyProblem } from './yubikey-check.ts';

export type CodeMatch =
  | { outcome: 'match'; token: Token; advance: TokenAdvance }
  | { outcome: 'reused'; token: Token }
  /** `unreadable`: tokens whose seed this node could not open (another seed key, a moved value). */
  | { outcome: 'none'; unreadable: Token[]; problem?: YubikeyProblem };

/** The reason a counted failure gets: reused, a malformed YubiKey OTP, or a wrong code. */
export function failureReason(match: CodeMatch): ReasonCode {
  if (match.outcome === 'reused') return 'OTP_REUSED';
  return (match.outcome === 'none' && match.problem) || 'OTP_INVALID';
}

export function openSecret(keyring: KeyRing, token: Token): Uint8Array | null {
  return keyring.open(token.secretSealed, token.serial);
}

/**
 * Looks for the code among the tokens, inside each token's window. A code that matches only at or
 * before the token's last accepted position is reported as reused.
 */
export function matchCode(
  keyring: KeyRing,
  tokens: Token[],
  stateOf: TokenStateOf,
  code: string,
  settings: Settings,
  now: number,
): CodeMatch {
  let reused: Token | null = null;
  const unreadable: Token[] = [];
  const keys = tokens.filter((t) => t.type === 'yubikey');
  for (const token of tokens) {
    if (token.type === 'yubikey') continue;
    // Mail and SMS tokens hold a MAC key, not an OTP seed: their codes exist only inside a challenge.
    if (token.type === 'email' || token.type === 'sms') continue;
    const secret = openSecret(keyring, token);
    if (!secret) {
      unreadable.push(token);
      continue;
    }
    const state = stateOf(token.serial);
    const lastUsedStep = state?.lastUsedStep ?? -1;
    const counter = state?.counter ?? 0;
    const params = { secret, algorithm: token.algorithm, digits: token.digits, period: token.period };
    if (token.type === 'totp' || token.type === 'push') {
      // a push token's phone makes TOTP codes too, for logins with no network
      const current = timeStep(now, token.period);
      const centre = current + (state?.drift ?? 0);
      const w = settings.totp.window;
      const fresh = findTotpStep(params, code, Math.max(centre - w, lastUsedStep + 1), centre + w, centre);
      if (fresh !== null) {
        // Bounded by maxDrift, except that a drift set by an admin resync is kept as a bound.
        const learned = state?.drift ?? 0;
        const max = Math.max(settings.totp.maxDrift, Math.abs(learned));
        const drift = Math.max(-max, Math.min(max, fresh - current));
        return { outcome: 'match', token, advance: { kind: 'totp', step: fresh, drift } };
      }
      if (!reused && lastUsedStep >= centre - w) {
        const old = findTotpStep(params, code, centre - w, lastUsedStep, lastUsedStep);
        if (old !== null) reused = token;
      }
    } else {
      const found = findHotpCounter(params, code, counter, counter + settings.hotp.lookAhead);
      if (found !== null) return { outcome: 'match', token, advance: { kind: 'hotp', counter: found } };
      if (!reused && counter > 0) {
        const old = findHotpCounter(params, code, counter - settings.hotp.lookAhead, counter - 1);
        if (old !== null) reused = token;
      }
    }
  }
  if (reused) return { outcome: 'reused', token: reused };
  const yubikey = matchYubikey(keyring, keys, stateOf, code, keys.length < tokens.length);
  if (yubikey.outcome !== 'none') return yubikey;
  return { ...yubikey, unreadable: [...unreadable, ...yubikey.unreadable] };
}
