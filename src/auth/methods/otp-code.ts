import type { Method, Token } from '../../model/index.ts';
import type { ChallengeMethod, MethodContext, MethodStart } from './types.ts';

/** A code the user reads off a device: nothing to send, the client's prompt asks for it. */
function codeFromDevice(type: Method, name: string): ChallengeMethod {
  return {
    type,
    label: (token: Token) => (token.description ? `${name} (${token.description})` : name),
    start: async (ctx: MethodContext): Promise<MethodStart> => ({ message: ctx.client.challengeText }),
  };
}

export const totpMethod = codeFromDevice('totp', 'Authenticator app');
export const hotpMethod = codeFromDevice('hotp', 'Code token');

/** A token type no method is registered for: its tokens answer with a code, as before methods. */
export function codeMethod(type: Method): ChallengeMethod {
  return codeFromDevice(type, type);
}
