import type { CodeRedemption } from '../model/index.ts';
import type { ValidateOutcome } from './validator.ts';

/**
 * Recovery codes and helpdesk temporary codes, as the validator sees them (src/portal implements
 * it). A pass of their shape is never an OTP, so it is checked here instead of against the tokens.
 */
export interface OneTimeCodes {
  matches(pass: string): boolean;
  /** Atomically spends the code unless the user is locked; see Store.redeemUserCode. */
  redeem(username: string, pass: string, now: number): Promise<CodeRedemption>;
}

/**
 * Inside a reserved attempt, like an OTP: an accept resets the count (in the store's atomic step),
 * a miss is a failure like a wrong code (`fail`).
 */
export async function redeemOneTimeCode(
  codes: OneTimeCodes,
  username: string,
  pass: string,
  now: number,
  fail: () => Promise<ValidateOutcome>,
): Promise<ValidateOutcome> {
  const result = await codes.redeem(username, pass, now);
  if (result === 'recovery' || result === 'temporary')
    return { result: 'accept', reason: 'OK', method: result };
  if (result === 'locked')
    return {
      result: 'reject',
      reason: 'USER_LOCKED',
      message: 'Too many failed attempts; the account is locked for a while.',
    };
  return fail();
}
