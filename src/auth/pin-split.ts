import { verifyPinCandidates } from '../crypto/index.ts';
import { TOKEN_CHARS } from '../otp/yubico/index.ts';

/**
 * Lengths from here on are YubiKey OTPs (a public id of at least one byte and the token). Their
 * tail is taken whatever its characters, so that a proved PIN followed by a mistyped OTP gets the
 * OTP's own reason (bad ModHex, CRC) rather than a wrong PIN; the work is the same either way.
 */
const YUBICO_OTP_MIN_CHARS = TOKEN_CHARS + 2;

export type PinSplit =
  | { kind: 'pin+otp'; otp: string; digits: number }
  | { kind: 'pin+code'; code: string }
  | { kind: 'pin-only' }
  | { kind: 'wrong-pin' };

/** A pass read as `secret ‖ code` for one token length; `secret` is null where it cannot be. */
export interface PassSplit {
  digits: number;
  otp: string;
  secret: string | null;
}

/**
 * The ways a pass can end in a code of one of the token lengths (longest first; see codeLength): the first factor
 * (PIN or directory password) is what comes before. Shared by every first factor sent in one pass.
 */
export function codeSplits(pass: string, digitLengths: number[]): PassSplit[] {
  return [...new Set(digitLengths)]
    .sort((a, b) => b - a)
    .map((digits) => {
      const otp = pass.slice(-digits);
      const usable = pass.length > digits && (digits >= YUBICO_OTP_MIN_CHARS || /^[0-9]+$/.test(otp));
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
  oneTimeCode?: (pass: string) => boolean,
): Promise<PinSplit> {
  const splits = codeSplits(pass, digitLengths);
  const tails = oneTimeCode ? oneTimeCodeSplits(pass, oneTimeCode) : [];
  const results = await verifyPinCandidates(
    [...splits.map((s) => s.secret ?? pass), pass, ...tails.map((t) => t.secret)],
    pinHash,
  );
  let found: PinSplit = results[splits.length] ? { kind: 'pin-only' } : { kind: 'wrong-pin' };
  splits.forEach((s, i) => {
    if (s.secret !== null && results[i]) found = { kind: 'pin+otp', otp: s.otp, digits: s.digits };
  });
  tails.forEach((t, i) => {
    if (results[splits.length + 1 + i]) found = { kind: 'pin+code', code: t.code };
  });
  return found;
}

/**
 * The ways a pass can end in a recovery or temporary code (`xxxx-xxxx-xxxx` as shown, or its 12
 * characters without dashes): the PIN is what comes before. How many there are depends only on the
 * pass's shape, which its sender knows, never on the PIN; a code never ends an OTP split (it is not
 * all digits), so the two kinds never compete for one reading.
 */
export function oneTimeCodeSplits(
  pass: string,
  matches: (code: string) => boolean,
): { secret: string; code: string }[] {
  const out: { secret: string; code: string }[] = [];
  for (const length of [14, 12]) {
    const code = pass.slice(-length);
    if (pass.length > length && matches(code)) out.push({ secret: pass.slice(0, -length), code });
  }
  return out;
}
