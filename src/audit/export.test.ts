import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { csvField, csvLine } from './export.ts';

describe('CSV export', () => {
  test('quotes separators and quotes, and makes a formula text', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('line\nbreak'), '"line\nbreak"');
    assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvField('+1'), "'+1");
    assert.equal(csvField('@SUM(A1)'), "'@SUM(A1)");
  });

  test('one event is one line of every column, detail as JSON', () => {
    const line = csvLine({
      time: Date.UTC(2026, 0, 2, 3, 4, 5),
      type: 'user.update',
      actor: 'admin:k1',
      username: 'dora',
      result: 'ok',
      detail: { 'before.email': 'a@x', 'after.email': 'b@x' },
    });
    assert.equal(
      line,
      '2026-01-02T03:04:05.000Z,admin,user.update,admin:k1,dora,,ok,,,,,' +
        '"{""before.email"":""a@x"",""after.email"":""b@x""}"\r\n',
    );
  });
});
