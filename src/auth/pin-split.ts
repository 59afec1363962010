import { verifyPin } from '../crypto/index.ts';

export type PinSplit =
  | { kind: 'pin+otp'; otp: string; digits: number }
  | { kind: 'pin-only' }
  | { kind: 'wrong-pin' };

/**
 * Splits `PIN ‖ OTP` for a user with a PIN. The OTP is the trailing `digits` characters for one of
 * the user's token lengths; a pass that is the PIN alone asks for a challenge.
 */
export async function splitPinAndOtp(
  pass: string,
  pinHash: string,
  digitLengths: number[],
): Promise<PinSplit> {
  for (const digits of [...new Set(digitLengths)].sort((a, b) => b - a)) {
    if (pass.length <= digits) continue;
    const otp = pass.slice(-digits);
    if (!/^[0-9]+$/.test(otp)) continue;
    if (await verifyPin(pass.slice(0, -digits), pinHash)) return { kind: 'pin+otp', otp, digits };
  }
  return (await verifyPin(pass, pinHash)) ? { kind: 'pin-only' } : { kind: 'wrong-pin' };
}
