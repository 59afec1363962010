import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import type { Invitation, UserCodes } from '../model/index.ts';
import { mergeCodes, mergeInvitation } from './restore-self-service.ts';

const base: UserCodes = {
  username: 'u',
  userCreatedAt: 1,
  salt: 'aa',
  recovery: { createdAt: 10, total: 3, hashes: ['h1', 'h2', 'h3'] },
};

describe('restoring one-time codes and invitation links never reopens one', () => {
  test('into a store without the record: the snapshot as it is', () => {
    assert.deepEqual(mergeCodes(base, null), base);
  });
  test('the same set: a code spent on either side stays spent', () => {
    const live = { ...base, recovery: { ...base.recovery!, hashes: ['h1', 'h3'] } };
    const saved = { ...base, recovery: { ...base.recovery!, hashes: ['h2', 'h3'] } };
    assert.deepEqual(mergeCodes(saved, live).recovery?.hashes, ['h3']);
  });
  test('a set made after the snapshot stays; an older live set gives way to the snapshot', () => {
    const newer = { ...base, recovery: { createdAt: 20, total: 1, hashes: ['n1'] } };
    assert.deepEqual(mergeCodes(base, newer).recovery, newer.recovery);
    assert.deepEqual(mergeCodes(newer, base).recovery, newer.recovery);
  });
  test('another incarnation of the user: the snapshot replaces it', () => {
    const other = { ...base, userCreatedAt: 2, salt: 'bb', recovery: undefined };
    assert.deepEqual(mergeCodes(base, other), base);
  });
  test('a temporary code spent live is not brought back', () => {
    const t = { hash: 't', createdAt: 5, expiresAt: 99, oneTime: true, createdBy: 'admin:x' };
    assert.equal(mergeCodes({ ...base, temporary: t }, base).temporary, undefined);
    const later = { ...t, hash: 't2', createdAt: 6 };
    assert.deepEqual(mergeCodes({ ...base, temporary: t }, { ...base, temporary: later }).temporary, later);
    assert.deepEqual(mergeCodes({ ...base, temporary: later }, { ...base, temporary: t }).temporary, later);
  });
  test('a link used or revoked on either side stays closed', () => {
    const open: Invitation = {
      id: 'i',
      username: 'u',
      userCreatedAt: 1,
      createdAt: 1,
      expiresAt: 9,
      createdBy: 'cli',
      status: 'open',
    };
    const used = { ...open, status: 'used' as const, usedAt: 3 };
    assert.equal(mergeInvitation(open, used).status, 'used');
    assert.equal(mergeInvitation(used, open).status, 'used');
    assert.equal(mergeInvitation(open, null).status, 'open');
  });
});
