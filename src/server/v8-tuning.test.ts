import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'vitest';

const tuning = new URL('./v8-tuning.ts', import.meta.url).pathname;

/**
 * V8's pretenuring decisions in a child that keeps 10^6 small arrays of one literal alive (what
 * V8 pretenures), with or without tuneV8() first. `--no-page-promotion` makes the young collections
 * copy each survivor (not move whole pages), so V8 counts them all and its decision is reproducible.
 */
function decisions(tuned: boolean): string {
  const script = `
    const { tuneV8 } = await import(${JSON.stringify(tuning)});
    if (${tuned}) tuneV8();
    const keep = [];
    function make(i) { return [i, i + 1]; }
    for (let round = 0; round < 20; round++) for (let i = 0; i < 50_000; i++) keep.push(make(i));
    console.log('kept', keep.length);
  `;
  return execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--no-page-promotion',
      '--trace-pretenuring-statistics',
      '--input-type=module',
      '-e',
      script,
    ],
    { encoding: 'utf8' },
  );
}

test('tuneV8 stops V8 from pretenuring: objects that survived young collections once are not born old from then on', () => {
  const untuned = decisions(false);
  assert.match(
    untuned,
    /=> tenure/,
    'without it V8 decides to pretenure the kept literal (the check can fail)',
  );
  const tuned = decisions(true);
  assert.match(tuned, /kept 1000000/);
  assert.doesNotMatch(tuned, /pretenuring:/, 'with it V8 takes no pretenuring decision at all');
});
