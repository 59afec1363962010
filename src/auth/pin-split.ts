import { verifyPinCandidates } from '../crypto/index.ts';

export type PinSplit =
  | { kind: 'pin+otp'; otp: string; digits: number }
  | { kind: 'pin-only' }
  | { kind: 'wrong-pin' };

/** A pass read as `secret ‖ code` for one token length; `secret` is null where it cannot be. */
export interface PassSplit {
  digits: number;
  otp: string;
  secret: string | null;
}

/**
 * The ways a pass can end in a code of one of the token lengths (longest first): the first factor
 * (PIN or directory password) is what comes before. Shared by every first factor sent in one pass.
 */
export function codeSplits(pass: string, digitLengths: number[]): PassSplit[] {
  return [...new Set(digitLengths)]
    .sort((a, b) => b - a)
    .map((digits) => {
      const otp = pass.slice(-digits);
      const usable = pass.length > digits && /^[0-9]+$/.test(otp);
      return { digits, otp, secret: usable ? pass.slice(0, -digits) : null };
    });
}

/**
 * Splits `PIN ‖ OTP` for a user with a PIN. The OTP is the trailing `digits` characters for one of
 * the user's token lengths; a pass that is the PIN alone asks for a challenge.
 *
 * The work is the same whatever the pass: one scrypt per token length plus one for the whole pass,
 * always all of them (a length the pass is too short for, or whose tail is not digits, hashes the
 * whole pass in its place and ignores the result). So the time says nothing about whether, or
 * where, the PIN matched. Throws WorkQueueFull when the node has too many PIN checks waiting.
 */
export async function splitPinAndOtp(
  pass: string,
  pinHash: string,
  digitLengths: number[],
): Promise<PinSplit> {
  const splits = codeSplits(pass, digitLengths);
  const results = await verifyPinCandidates([...splits.map((s) => s.secret ?? pass), pass], pinHash);
  let found: PinSplit = results[splits.length] ? { kind: 'pin-only' } : { kind: 'wrong-pin' };
  splits.forEach((s, i) => {
    if (s.secret !== null && results[i]) found = { kind: 'pin+otp', otp: s.otp, digits: s.digits };
  });
  return found;
}
