import assert from 'node:assert/strict';
import { test } from 'vitest';
import { Progress } from './progress.ts';

const ESC = String.fromCharCode(27);

function sink(): { text: () => string; stream: NodeJS.WriteStream } {
  let text = '';
  const stream = {
    write(s: string) {
      text += s;
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { text: () => text, stream };
}

test('on a terminal, progress redraws one line with done/total and the rate, then the summary', () => {
  const out = sink();
  const p = new Progress('restore', out.stream, true);
  p.update(500, 1000, 'users');
  p.update(1000, 1000, 'users');
  const line = p.done('restored 1000 users', 1000);
  assert.ok(out.text().startsWith(`\r${ESC}[2Krestore: 500/1000 users (50%), `), out.text());
  assert.match(out.text(), /restore: 1000\/1000 users \(100%\)/);
  assert.match(line, /^restore: restored 1000 users in [\d.]+ s \(\d+ records\/s\)$/);
  assert.ok(out.text().endsWith(`${line}\n`));
});

test('without a terminal, only the summary line is written', () => {
  const out = sink();
  const p = new Progress('backup', out.stream, false);
  p.update(1, 10);
  p.done('wrote 10 records', 10);
  assert.ok(!out.text().includes('\r') && !out.text().includes(ESC));
  assert.match(out.text(), /^backup: wrote 10 records in [\d.]+ s \(\d+ records\/s\)\n$/);
});
