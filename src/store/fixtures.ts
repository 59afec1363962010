// Sample records for tests and benchmarks: a plain user, token and client with every required field,
// and the RFC 6238 test seed as TOTP parameters.
import type { Client, Token, User } from '../model/index.ts';
import { base32Decode } from '../otp/index.ts';
import type { Store } from './types.ts';

/** The well-known base32 test seed, and the TOTP parameters of a default token holding it. */
export const SAMPLE_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
export const SAMPLE_TOTP = {
  secret: base32Decode(SAMPLE_SECRET)!,
  algorithm: 'SHA1' as const,
  digits: 6 as const,
  period: 30 as const,
};

export function sampleClient(id: string, over: Partial<Client> = {}): Client {
  return {
    id,
    name: id,
    kind: 'radius',
    keyHash: 'h',
    allowedCidrs: [],
    challengeText: 'Enter code',
    enabled: true,
    rejectDetail: 'generic',
    firstFactor: 'pin',
    createdAt: 1,
    ...over,
  };
}

export function sampleUser(username: string, over: Partial<User> = {}): User {
  return {
    username,
    group: 'default',
    enabled: true,
    mfaRequired: true,
    methods: {},
    createdAt: 1,
    updatedAt: 1,
    ...over,
  };
}

export function sampleToken(serial: string, username: string, over: Partial<Token> = {}): Token {
  return {
    serial,
    username,
    type: 'totp',
    isDefault: false,
    status: 'active',
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    secretSealed: 'v1:k:sealed',
    createdAt: 1,
    updatedAt: 1,
    ...over,
  };
}

/** The same store with decideAttempt hidden, as the Redis store has none: the validator's other path. */
export function withoutDecideAttempt(store: Store): Store {
  return new Proxy(store, {
    get: (target, prop) => {
      if (prop === 'decideAttempt') return undefined;
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
