import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { afterAll, test } from 'vitest';
import type { AdminContext } from '../admin/context.ts';
import { createUser, enrolToken } from '../admin/index.ts';
import { KeyRing } from '../crypto/index.ts';
import { DEFAULT_SETTINGS } from '../model/index.ts';
import { timeStep, totpAt } from '../otp/index.ts';
import { SAMPLE_SECRET, SAMPLE_TOTP, sampleClient } from '../store/fixtures.ts';
import { openEmbeddedStore } from '../store/index.ts';
import { type ValidateOutcome, Validator } from './validator.ts';

// V8's own check of two objects' hidden classes (maps); the flag lets this one function use it.
setFlagsFromString('--allow-natives-syntax');
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

const dir = mkdtempSync(join(tmpdir(), 'tessera-validator-shapes-'));
const store = openEmbeddedStore(dir);
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('accepts, which name their token, share one hidden class: a map per answer would be born in the old generation and hold the answer past its login', async () => {
  const keyring = KeyRing.generate();
  const admin: AdminContext = { store, keyring, settings: async () => DEFAULT_SETTINGS, audit: () => {} };
  const validator = new Validator({
    store,
    keyring,
    settings: async () => DEFAULT_SETTINGS,
    audit: { record() {} },
  });
  const client = sampleClient('c1', { name: 'test', kind: 'api' });
  const code = totpAt(SAMPLE_TOTP, timeStep(Date.now(), 30));
  const accepts: ValidateOutcome[] = [];
  // enough logins for V8's inline caches to settle: with `{ ...accept('OK'), serial, method }` the
  // answers' maps all differ from about the tenth on (Node 20)
  for (let i = 0; i < 40; i++) {
    const user = `shape${i}`;
    await createUser(admin, { username: user });
    await enrolToken(admin, user, { type: 'totp', secret: SAMPLE_SECRET });
    accepts.push(await validator.validate({ user, pass: code, client }));
  }
  assert.ok(accepts.every((o) => o.result === 'accept' && o.serial !== undefined && o.method === 'totp'));
  const last = accepts.at(-1)!;
  const differing = accepts.slice(20).filter((o) => !sameMap(o, last));
  assert.equal(differing.length, 0, "accepts from the 20th on share the last one's map");
});
