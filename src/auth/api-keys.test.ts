import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { keyMatches, mintKey, parseKey } from './api-keys.ts';

describe('parseKey', () => {
  test('reads back the kind, id and secret of a minted key of either kind', () => {
    for (const kind of ['admin', 'client'] as const) {
      const minted = mintKey(kind);
      const parsed = parseKey(minted.key);
      assert.ok(parsed);
      assert.equal(parsed.kind, kind);
      assert.equal(parsed.id, minted.id);
      assert.ok(keyMatches(parsed, minted.hash));
    }
  });

  test('refuses anything not of the exact shape', () => {
    const { key } = mintKey('client');
    const [prefix, id, secret] = key.split('.') as [string, string, string];
    const bad = [
      '',
      `${id}.${secret}`,
      `tessera-node.${id}.${secret}`,
      `Tessera-client.${id}.${secret}`,
      `${prefix}.${id}.${secret}.x`,
      `${prefix}.${id.slice(1)}.${secret}`,
      `${prefix}.${id}x.${secret}`,
      `${prefix}.${id}.${secret.slice(1)}`,
      `${prefix}.${id}.${secret}=`,
      `${prefix}.${id}.${secret}\n`,
      ` ${key}`,
      `${prefix}.${id.slice(1)}+.${secret}`,
      `${prefix}.${id}.${secret.slice(1)}/`,
      `${prefix}..${secret}`,
      `${prefix}x${id}.${secret}`,
    ];
    for (const text of bad) assert.equal(parseKey(text), null, JSON.stringify(text));
  });
});
