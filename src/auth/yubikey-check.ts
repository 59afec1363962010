import type { KeyRing } from '../crypto/index.ts';
import type { ReasonCode, Token, TokenAdvance, TokenStateOf } from '../model/index.ts';
import {
  decryptToken,
  isModhex,
  otpPosition,
  splitOtp,
  TOKEN_CHARS,
  unpackYubikeySecret,
} from '../otp/yubico/index.ts';

/** Why a pass read as a YubiKey OTP is not one of the user's keys' (a stable reason each). */
export type YubikeyProblem = Extract<
  ReasonCode,
  'YUBIKEY_BAD_LENGTH' | 'YUBIKEY_BAD_MODHEX' | 'YUBIKEY_UNKNOWN' | 'YUBIKEY_CRC'
>;

export type YubikeyMatch =
  | { outcome: 'match'; token: Token; advance: TokenAdvance }
  | { outcome: 'reused'; token: Token }
  | { outcome: 'none'; unreadable: Token[]; problem?: YubikeyProblem };

/** How many characters a token's codes have: digits, or a YubiKey's public id and its token. */
export function codeLength(token: Token): number {
  return token.type === 'yubikey' ? (token.publicId?.length ?? 0) + TOKEN_CHARS : token.digits;
}

/**
 * Checks a pass against the user's YubiKeys (Yubico OTP). The public id picks the key; its OTP is
 * accepted when it decrypts under the key's AES key with a valid CRC and private id, and its
 * counters are at or past the token's next position (`state.counter`): an older or replayed OTP is
 * reported as reused. A pass of digits only is another token's code when the user has other
 * tokens, so it never gets a YubiKey reason then.
 */
export function matchYubikey(
  keyring: KeyRing,
  keys: Token[],
  stateOf: TokenStateOf,
  pass: string,
  othersExist: boolean,
): YubikeyMatch {
  const unreadable: Token[] = [];
  if (keys.length === 0 || (othersExist && /^[0-9]*$/.test(pass))) return { outcome: 'none', unreadable };
  const sameLength = keys.filter((k) => codeLength(k) === pass.length);
  if (sameLength.length === 0) return { outcome: 'none', unreadable, problem: 'YUBIKEY_BAD_LENGTH' };
  if (!isModhex(pass)) return { outcome: 'none', unreadable, problem: 'YUBIKEY_BAD_MODHEX' };
  let problem: YubikeyProblem | undefined = 'YUBIKEY_UNKNOWN';
  for (const key of sameLength) {
    const parts = splitOtp(pass, codeLength(key) - TOKEN_CHARS);
    if (!parts.ok || parts.publicId !== key.publicId) continue;
    const opened = keyring.open(key.secretSealed, key.serial);
    const secret = opened && unpackYubikeySecret(opened);
    if (!secret) {
      unreadable.push(key);
      problem = undefined;
      continue;
    }
    const result = decryptToken(parts.cipher, secret.aesKey, secret.privateId);
    if (!result.ok) {
      // Another key's OTP under the same public id, or a forgery: a wrong code, not a malformed one.
      problem = result.problem === 'crc' ? 'YUBIKEY_CRC' : undefined;
      continue;
    }
    const position = otpPosition(result.token);
    if (position < (stateOf(key.serial)?.counter ?? 0)) return { outcome: 'reused', token: key };
    return { outcome: 'match', token: key, advance: { kind: 'yubikey', counter: position } };
  }
  return { outcome: 'none', unreadable, ...(problem ? { problem } : {}) };
}
