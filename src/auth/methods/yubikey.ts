import type { Token } from '../../model/index.ts';
import type { ChallengeMethod, MethodContext, MethodStart } from './types.ts';

/**
 * Yubico OTP: nothing to send, the user touches the key and it types the OTP. No `answer`: the
 * code check reads the OTP (public id, decrypt, CRC, counters) as for a one-shot login.
 */
export const yubikeyMethod: ChallengeMethod = {
  type: 'yubikey',
  label: (token: Token) => (token.description ? `YubiKey (${token.description})` : 'YubiKey'),
  start: async (ctx: MethodContext): Promise<MethodStart> => ({ message: ctx.client.challengeText }),
};
