import assert from 'node:assert/strict';
import { test } from 'vitest';
import { formatSyslog, severityOf } from './rfc5424.ts';

const h = { facility: 10, hostname: 'node a', appName: 'tessera', procId: '42' };

test('header: PRI from facility and severity, ISO time, tokens without spaces', () => {
  const line = formatSyslog({ time: 0, type: 'user.create', actor: 'admin:k', username: 'al' }, 'admin', h);
  assert.equal(
    line,
    '<85>1 1970-01-01T00:00:00.000Z node_a tessera 42 admin [tessera@32473 type="user.create" actor="admin:k" user="al"] user.create al',
  );
});

test('param values escape ", \\ and ] and lose control characters; names are cut to SD-NAME', () => {
  const line = formatSyslog(
    { time: 0, type: 'validate', actor: 'c', username: 'a"b]c\\d\ne', detail: { 'x y=z': 1 } },
    'auth',
    h,
  );
  assert.match(line, / user="a\\"b\\]c\\\\d e"/);
  assert.match(line, /\[detail@32473 x_y_z="1"\]/);
});

test('detail fields named like secrets are never sent', () => {
  const line = formatSyslog(
    {
      time: 0,
      type: 'token.enrol',
      actor: 'a',
      detail: { seed: 'S', pin: 'P', password: 'W', apiKey: 'K', kind: 'totp' },
    },
    'admin',
    h,
  );
  assert.match(line, /\[detail@32473 kind="totp"\]/);
  for (const s of ['"S"', '"P"', '"W"', '"K"']) assert.ok(!line.includes(s), s);
});

test('severity: refused login and failures warn, changes are notices, the rest info', () => {
  assert.equal(severityOf({ time: 0, type: 'validate', actor: 'c', result: 'accept' }, 'auth'), 6);
  assert.equal(severityOf({ time: 0, type: 'validate', actor: 'c', result: 'reject' }, 'auth'), 4);
  assert.equal(severityOf({ time: 0, type: 'user.create', actor: 'a' }, 'admin'), 5);
  assert.equal(severityOf({ time: 0, type: 'node.start', actor: 'n' }, 'event'), 6);
  assert.equal(severityOf({ time: 0, type: 'snapshot.failed', actor: 'n' }, 'event'), 4);
});
