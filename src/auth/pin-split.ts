import { verifyPinCandidates } from '../crypto/index.ts';

export type PinSplit =
  | { kind: 'pin+otp'; otp: string; digits: number }
  | { kind: 'pin-only' }
  | { kind: 'wrong-pin' };

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
  const lengths = [...new Set(digitLengths)].sort((a, b) => b - a);
  const splits = lengths.map((digits) => {
    const otp = pass.slice(-digits);
    const usable = pass.length > digits && /^[0-9]+$/.test(otp);
    return { digits, otp, pin: usable ? pass.slice(0, -digits) : null };
  });
  const results = await verifyPinCandidates([...splits.map((s) => s.pin ?? pass), pass], pinHash);
  let found: PinSplit = results[splits.length] ? { kind: 'pin-only' } : { kind: 'wrong-pin' };
  splits.forEach((s, i) => {
    if (s.pin !== null && results[i]) found = { kind: 'pin+otp', otp: s.otp, digits: s.digits };
  });
  return found;
}
