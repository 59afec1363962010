import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { terminalProgress } from './progress.ts';

describe('sync progress on a terminal', () => {
  test('a TTY gets a line rewritten in place, at most every interval, and the last write always', () => {
    let out = '';
    let t = 0;
    const p = terminalProgress({ isTTY: true, write: (s: string) => (out += s) }, 'corp', 200, () => t);
    for (let i = 1; i <= 1000; i++) {
      t += 1;
      p.update({ phase: 'read', done: i });
    }
    p.update({ phase: 'write', done: 10, total: 10 });
    p.end();
    const lines = out.split('\r').filter(Boolean);
    assert.equal(lines.length, 6, JSON.stringify(lines));
    assert.match(lines[0]!, /corp: read 200 entries/);
    assert.match(out, /corp: wrote 10\/10 changes\n$/);
  });

  test('a pipe or a file gets nothing', () => {
    let out = '';
    const p = terminalProgress({ isTTY: false, write: (s: string) => (out += s) }, 'corp');
    p.update({ phase: 'read', done: 5 });
    p.end();
    assert.equal(out, '');
  });
});
