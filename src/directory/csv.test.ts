import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { TesseraError } from '../model/index.ts';
import { type CsvRow, detectSeparator, parseCsv } from './csv.ts';
import { mapColumns } from './csv-columns.ts';

const rows = (text: string): CsvRow[] => [...parseCsv(text)];

describe('CSV reading', () => {
  test('BOM, CRLF, quoted separators, doubled quotes and line breaks inside quotes', () => {
    const text = '\uFEFFuser,name\r\nann,"Arbor, Ann"\r\nben,"say ""hi""\r\nsecond line"\r\ncid,plain\r\n';
    assert.deepEqual(rows(text), [
      { line: 1, fields: ['user', 'name'] },
      { line: 2, fields: ['ann', 'Arbor, Ann'] },
      { line: 3, fields: ['ben', 'say "hi"\r\nsecond line'] },
      { line: 5, fields: ['cid', 'plain'] },
    ]);
  });

  test('no final newline, bare CR line ends, empty lines and empty fields', () => {
    assert.deepEqual(rows('a,b\r\r\n1,\r2,x'), [
      { line: 1, fields: ['a', 'b'] },
      { line: 3, fields: ['1', ''] },
      { line: 4, fields: ['2', 'x'] },
    ]);
    assert.deepEqual(rows(''), []);
    assert.deepEqual(rows('\uFEFF'), []);
  });

  test('a broken row is reported by line without its text, and the next row is read', () => {
    const got = rows('u,s\nann,"JBSW"Y3DP\nben,ok\ncid,"never closed\n');
    assert.deepEqual(got, [
      { line: 1, fields: ['u', 's'] },
      { line: 2, problem: 'text follows a closing quote' },
      { line: 3, fields: ['ben', 'ok'] },
      { line: 4, problem: 'a quoted field is never closed' },
    ]);
    assert.ok(!JSON.stringify(got).includes('JBSW'));
  });

  test('the separator is what the header uses most: comma, semicolon or tab', () => {
    assert.equal(detectSeparator('a;b;"c,d"\n1,2'), ';');
    assert.equal(detectSeparator('a\tb\n'), '\t');
    assert.equal(detectSeparator('a,b\n'), ',');
    assert.deepEqual(rows('login;mail\nann;a@x\n')[1], { line: 2, fields: ['ann', 'a@x'] });
  });
});

describe('CSV column mapping', () => {
  const code = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof TesseraError);
      return e.code;
    }
    return 'none';
  };

  test('column names are matched without case, spaces, "-" or "_"', () => {
    const m = mapColumns([
      'sAMAccountName',
      'E-Mail',
      'Mobile',
      'Display Name',
      'Groups',
      'Serial',
      'Secret',
      'Shoe size',
    ]);
    assert.deepEqual(m.columns, {
      username: 'sAMAccountName',
      email: 'E-Mail',
      phone: 'Mobile',
      displayName: 'Display Name',
      group: 'Groups',
      serial: 'Serial',
      secret: 'Secret',
    });
    assert.deepEqual(m.ignored, ['Shoe size']);
    assert.equal(mapColumns(['login', 'mail', 'phone', 'name']).index.username, 0);
    assert.equal(mapColumns(['uid']).index.username, 0);
  });

  test('an explicit mapping wins; an unclear or unusable header is IMPORT_INVALID', () => {
    const m = mapColumns(['Kennung', 'uid', 'Adresse'], { username: 'Kennung', email: 'Adresse' });
    assert.deepEqual(m.columns, { username: 'Kennung', email: 'Adresse' });
    assert.deepEqual(m.ignored, ['uid']);
    assert.equal(
      code(() => mapColumns(['mail', 'phone'])),
      'IMPORT_INVALID',
    );
    assert.equal(
      code(() => mapColumns(['login', 'uid'])),
      'IMPORT_INVALID',
    );
    assert.equal(
      code(() => mapColumns(['user', 'User'])),
      'IMPORT_INVALID',
    );
    assert.equal(
      code(() => mapColumns(['user', 'serial'])),
      'IMPORT_INVALID',
    );
    assert.equal(
      code(() => mapColumns(['user'], { email: 'nope' })),
      'IMPORT_INVALID',
    );
  });
});
