// Second-factor methods at challenge time: how each token type starts a challenge and, where it
// is not a code the existing check reads, how its answer is proved. The validator looks every
// challenge's method up here.
import type { Method } from '../../model/index.ts';
import { hotpMethod, totpMethod } from './otp-code.ts';
import type { ChallengeMethod, MethodRegistry } from './types.ts';
import { yubikeyMethod } from './yubikey.ts';

export * from './email.ts';
export { type PushChallenges, type PushStartRequest, pushMethod, pushModeOf } from './push.ts';
export * from './sent-code.ts';
export * from './sms.ts';
export * from './types.ts';
export { hotpMethod, totpMethod, yubikeyMethod };

/** A registry of the given methods; the last one given for a type wins. */
export function methodRegistry(methods: readonly ChallengeMethod[]): MethodRegistry {
  const byType = new Map<Method, ChallengeMethod>(methods.map((m) => [m.type, m]));
  return { methodFor: (type) => byType.get(type) };
}

/**
 * The methods that need nothing from the node to work. A method that needs services (a mail
 * sender, a gateway) is built by src/server and given to the validator in a registry of its own,
 * next to these.
 */
export const BUILTIN_METHODS: readonly ChallengeMethod[] = [totpMethod, hotpMethod, yubikeyMethod];

const builtin = methodRegistry(BUILTIN_METHODS);

/** The built-in method of a token type (undefined: none registered; its tokens work as codes). */
export function methodFor(type: Method): ChallengeMethod | undefined {
  return builtin.methodFor(type);
}
export * from './menu.ts';
