import assert from 'node:assert/strict';
import { test } from 'vitest';
import { within } from './within.ts';

test('within() gives up on a slow promise and swallows its later failure', async () => {
  let rejectLater: (e: Error) => void = () => {};
  const slow = new Promise<number>((_, reject) => {
    rejectLater = reject;
  });
  assert.equal(await within(slow, 20), undefined);
  rejectLater(new Error('late')); // no unhandled rejection
  assert.equal(await within(Promise.resolve(7), 1000), 7);
});
