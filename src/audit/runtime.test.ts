import assert from 'node:assert/strict';
import { test } from 'vitest';
import { DEFAULT_SETTINGS, type LoggingSettings, type Settings } from '../model/index.ts';
import { AuditOutputs } from './outputs.ts';
import { LoggingRuntime } from './runtime.ts';

const outputs = () =>
  new AuditOutputs(
    { jsonl: { target: '/dev/null', streams: ['admin'] }, queueSize: 10 },
    { hostname: 'n', appName: 'tessera', procId: '1' },
  );

test('absent fields are the node configuration; an empty list switches an output off; null-free round trip', async () => {
  const out = outputs();
  const levels: string[] = [];
  let logging: LoggingSettings | undefined;
  const rt = new LoggingRuntime(
    async () => ({ ...DEFAULT_SETTINGS, ...(logging ? { logging } : {}) }) as Settings,
    out,
    (l) => levels.push(l),
    { level: 'info', streams: { jsonl: ['admin'] } },
  );
  await rt.refresh();
  assert.deepEqual(rt.state(), {
    level: 'info',
    outputs: [{ name: 'jsonl', target: '/dev/null', streams: ['admin'] }],
  });
  logging = { level: 'warn', jsonl: [], syslog: ['auth'] };
  await rt.refresh();
  assert.equal(rt.state().level, 'warn');
  assert.deepEqual(rt.state().outputs[0]!.streams, []);
  logging = {};
  await rt.refresh();
  assert.deepEqual(rt.state(), {
    level: 'info',
    outputs: [{ name: 'jsonl', target: '/dev/null', streams: ['admin'] }],
  });
  assert.deepEqual(levels, ['warn', 'info'], 'the level is set only when it changes');
  await out.close();
});

test('a store that cannot be read keeps what is applied', async () => {
  const out = outputs();
  const errors: string[] = [];
  const rt = new LoggingRuntime(
    async () => {
      throw new Error('store away');
    },
    out,
    () => {},
    { level: 'info', streams: {} },
    (m) => errors.push(m),
  );
  rt.apply({ level: 'error' });
  await rt.refresh();
  assert.equal(rt.state().level, 'error');
  assert.deepEqual(errors, ['store away']);
  await out.close();
});
