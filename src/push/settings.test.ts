import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { DEFAULT_SETTINGS, type Settings } from '../model/index.ts';
import { onlineRegistrationFor } from './settings.ts';

const withGroups = (global: boolean, groups: Record<string, boolean>): Settings => ({
  ...DEFAULT_SETTINGS,
  push: { onlineRegistration: global, onlineRegistrationGroups: groups },
});

describe('online registration for a group', () => {
  test("a group's own switch wins over the global one, either way", () => {
    const s = withGroups(false, { staff: true, guests: false });
    assert.equal(onlineRegistrationFor(s, 'staff'), true);
    assert.equal(onlineRegistrationFor(s, 'guests'), false);
    assert.equal(onlineRegistrationFor(withGroups(true, { guests: false }), 'guests'), false);
  });

  test('a group without a switch follows the global one', () => {
    assert.equal(onlineRegistrationFor(withGroups(false, { staff: true }), 'default'), false);
    assert.equal(onlineRegistrationFor(withGroups(true, {}), 'default'), true);
  });

  test('groups named like Object.prototype members read no inherited value', () => {
    const s = withGroups(false, {});
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      assert.equal(onlineRegistrationFor(s, name), false, name);
    }
    assert.equal(onlineRegistrationFor(withGroups(false, { constructor: true }), 'constructor'), true);
  });
});
