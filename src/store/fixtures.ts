// Sample records for tests and benchmarks: a plain user and token with every required field.
import type { Token, User } from '../model/index.ts';

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
