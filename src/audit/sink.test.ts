import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { EmbeddedStore } from '../store/embedded/index.ts';
import { openEmbeddedStore } from '../store/index.ts';
import { BufferedAuditSink } from './sink.ts';
import { auditStreamOf } from './streams.ts';

const quiet = { info() {}, warn() {} };

test('validate decisions go to auth, node events to event, everything else to admin', () => {
  assert.equal(auditStreamOf({ type: 'validate' }), 'auth');
  assert.equal(auditStreamOf({ type: 'node.snapshot' }), 'event');
  assert.equal(auditStreamOf({ type: 'failover' }), 'event');
  for (const type of ['user.create', 'token.delete', 'admin-key.create', 'settings.update', 'unknown'])
    assert.equal(auditStreamOf({ type }), 'admin', type);
});

describe('the sink keeps the admin trail apart from login traffic', () => {
  let dir: string;
  let store: EmbeddedStore;
  let sink: BufferedAuditSink;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-audit-'));
    // auth is bounded by count, as a flood of logins would make it
    store = openEmbeddedStore(dir, { auditRetention: { auth: { maxAgeMs: 86_400_000, maxEvents: 1_000 } } });
    sink = new BufferedAuditSink(store, quiet, 60_000);
  });
  afterAll(async () => {
    await sink.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an admin event recorded before 10,000 validate events is still listed after the sweep', async () => {
    const now = Date.now();
    sink.record({ time: now, type: 'user.delete', actor: 'admin:k', username: 'stolen-phone' });
    for (let i = 0; i < 10_000; i++)
      sink.record({
        time: now + 1,
        type: 'validate',
        actor: 'client:c',
        username: `u${i}`,
        result: 'reject',
      });
    await sink.flush();
    await store.pruneAudit();
    assert.deepEqual(
      (await store.listAudit(10, 'admin')).map((e) => e.username),
      ['stolen-phone'],
    );
    assert.equal((await store.listAudit(20_000, 'auth')).length, 1_000);
    // the admin API's default listing (all streams) still shows validations first, newest first
    assert.equal((await store.listAudit(1))[0]?.type, 'validate');
  });
});

test('a flush called while an earlier write is still running ends only after that write is stored', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-audit-'));
  const store = openEmbeddedStore(dir);
  const slow = new Proxy(store, {
    get(target, key, receiver) {
      if (key !== 'appendAudit') return Reflect.get(target, key, receiver);
      return async (...args: Parameters<EmbeddedStore['appendAudit']>) => {
        await new Promise((r) => setTimeout(r, 100));
        return target.appendAudit(...args);
      };
    },
  });
  const sink = new BufferedAuditSink(slow, quiet, 60_000);
  try {
    sink.record({
      time: Date.now(),
      type: 'validate',
      actor: 'client:c',
      username: 'early',
      result: 'reject',
    });
    const timerFlush = sink.flush(); // what the interval would start
    await sink.flush(); // what the audit view calls: nothing waiting, but a write is in flight
    assert.deepEqual(
      (await store.listAudit(10, 'auth')).map((e) => e.username),
      ['early'],
    );
    await timerFlush;
  } finally {
    await sink.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
