import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'vitest';
import { attemptId } from './redis-store.ts';

// A receipt id names one login attempt in Redis: two attempts sharing one would answer the second
// as the first was answered (an accept replayed), so ids must never repeat, across processes too.
test('attempt ids never repeat within a process', () => {
  const ids = new Set(Array.from({ length: 100_000 }, () => attemptId()));
  assert.equal(ids.size, 100_000);
});

test('attempt ids of two processes differ (each draws its own random part)', () => {
  const script = "import('./src/store/redis/redis-store.ts').then((m) => console.log(m.attemptId()))";
  const run = () =>
    execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' }).trim();
  const [a, b] = [run(), run()];
  assert.match(a, /^[0-9a-f]{32}\.1$/);
  assert.notEqual(a, b);
});
