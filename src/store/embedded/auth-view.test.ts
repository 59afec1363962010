import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'vitest';
import { EMPTY_TOKEN_STATE, type Token, type TokenState, type User } from '../../model/index.ts';
import { sampleToken, sampleUser } from '../fixtures.ts';
import { EmbeddedAuthView, type TokenStateReader } from './auth-view.ts';
import { openEmbeddedStore } from './index.ts';

const user = { username: 'alice', group: 'default' } as User;
const tokens = [{ serial: 'T-1' }, { serial: 'T-2' }] as Token[];
const userState = { failures: 0 } as never;

function reader(states: Record<string, TokenState>): TokenStateReader & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    get(serial) {
      reads.push(serial);
      return states[serial];
    },
  };
}

test('a view reads its token states only when first asked, once, and a token never used reads as empty', () => {
  const used: TokenState = { counter: 4, lastUsedStep: 100, drift: 1 };
  const r = reader({ 'T-1': used });
  const view = new EmbeddedAuthView(user, null, tokens, userState, r);
  assert.deepEqual(
    r.reads,
    [],
    'building the view reads no state (a code login reads them in its transaction)',
  );
  assert.equal(view.tokenStates.get('T-1'), used);
  assert.equal(view.tokenStates.get('T-2'), EMPTY_TOKEN_STATE);
  assert.equal(view.tokenStates.get('T-3'), undefined, "only the view's own tokens");
  assert.deepEqual(r.reads, ['T-1', 'T-2'], 'read once, not per look');
});

test("the store's views carry no getter of their own: the accessor is the class's, shared (a getter per view was promoted out of the young generation with the view's records)", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-lmdb-view-'));
  const store = openEmbeddedStore(dir);
  try {
    await store.createUser(sampleUser('alice'));
    await store.putToken(sampleToken('T-1', 'alice'));
    await store.putToken(sampleToken('T-2', 'alice'));
    const used: TokenState = { counter: 0, lastUsedStep: 1234, drift: 0 };
    await store.advanceTokenState('T-1', used);
    const view = await store.loadAuthView('alice');
    assert.ok(view);
    assert.equal(Object.getOwnPropertyDescriptor(view, 'tokenStates'), undefined);
    assert.deepEqual(
      view.tokens.map((t) => t.serial),
      ['T-1', 'T-2'],
    );
    assert.deepEqual(view.tokenStates.get('T-1'), used);
    assert.deepEqual(view.tokenStates.get('T-2'), EMPTY_TOKEN_STATE);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
