import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, describe, test } from 'vitest';
import type { AuditEvent } from '../model/index.ts';
import { openEmbeddedStore } from '../store/index.ts';
import type { ChainedAuditEvent } from '../store/types.ts';
import { ChainSealer } from './chain.ts';
import { AuditKeys, auditKeyPath } from './keys.ts';
import { verifyStream } from './verify.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const T0 = 1_700_000_000_000;
const ev = (i: number, type = 'user.update'): AuditEvent => ({
  time: T0 + i * 1000,
  type,
  actor: 'admin:k',
  username: `u${i}`,
});

/** A data dir with an embedded store whose admin stream holds entries 1..n (one batch of three). */
async function trail(n: number, opts: { now?: () => number; adminDays?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-chain-'));
  dirs.push(dir);
  const keys = AuditKeys.loadOrCreate(auditKeyPath(dir));
  const retention = opts.adminDays ? { admin: { maxAgeMs: opts.adminDays * 86_400_000 } } : {};
  const store = openEmbeddedStore(dir, { auditRetention: retention, ...(opts.now ? { now: opts.now } : {}) });
  store.useAuditSealer(new ChainSealer(keys));
  let i = 1;
  if (n >= 3) {
    await store.appendAudit([ev(1), ev(2), ev(3)], 'admin');
    i = 4;
  }
  for (; i <= n; i++) await store.appendAudit([ev(i)], 'admin');
  return { dir, keys, store };
}

/** Edits the raw `audit` database of a closed store: what someone with the files could do. */
function tamper(dir: string, fn: (db: ReturnType<typeof rawAudit>['db'], keys: string[]) => void): void {
  const raw = rawAudit(dir);
  const keys = [...raw.db.getKeys({ start: 'admin:', end: 'admin;' })].map(String);
  raw.db.transactionSync(() => fn(raw.db, keys));
  raw.root.close();
}

function rawAudit(dir: string) {
  // the store's own msgpack settings (useRecords off), which lmdb's types do not list
  const options = {
    path: join(dir, 'store'),
    maxDbs: 24,
    compression: false,
    useRecords: false,
    mapsAsObjects: true,
  };
  const root = open(options);
  return { root, db: root.openDB<ChainedAuditEvent, string>({ name: 'audit' }) };
}

async function verifyAfter(dir: string, keys: AuditKeys, range = {}) {
  const store = openEmbeddedStore(dir);
  try {
    return await verifyStream(store, keys, 'admin', range);
  } finally {
    await store.close();
  }
}

describe('the admin trail is hash-chained and signed (embedded store)', () => {
  test('an untouched chain verifies; the key file is 0600; listings carry no chain fields', async () => {
    const { dir, keys, store } = await trail(6);
    const r = await verifyStream(store, keys, 'admin');
    assert.deepEqual(r, { ok: true, stream: 'admin', checked: 6, first: 1, last: 6 });
    assert.equal(statSync(auditKeyPath(dir)).mode & 0o777, 0o600);
    const [newest] = await store.listAudit(1, 'admin');
    assert.deepEqual(newest, ev(6));
    // the auth stream is not chained: volume, not evidence
    await store.appendAudit([{ time: T0, type: 'validate', actor: 'client:c' }], 'auth');
    assert.deepEqual(await store.listAudit(1, 'auth'), [{ time: T0, type: 'validate', actor: 'client:c' }]);
    await store.close();
  });

  test('an edited entry: verify fails at exactly that entry', async () => {
    const { dir, keys, store } = await trail(6);
    await store.close();
    tamper(dir, (db, k) => {
      const e = db.get(k[3]!)!;
      db.putSync(k[3]!, { ...e, username: 'someone-else' });
    });
    const r = await verifyAfter(dir, keys);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.seq, 4);
    assert.match(!r.ok ? r.problem : '', /signature/);
  });

  test('an edit that keeps the signature but changes the chain fields fails too', async () => {
    const { dir, keys, store } = await trail(4);
    await store.close();
    tamper(dir, (db, k) => {
      const e = db.get(k[1]!)!;
      db.putSync(k[1]!, { ...e, chain: { ...e.chain!, prev: '1'.repeat(64) } });
    });
    const r = await verifyAfter(dir, keys);
    assert.equal(!r.ok && r.seq, 2);
  });

  test('a deleted entry: verify names it as missing', async () => {
    const { dir, keys, store } = await trail(6);
    await store.close();
    tamper(dir, (db, k) => db.removeSync(k[2]!));
    const r = await verifyAfter(dir, keys);
    assert.equal(!r.ok && r.seq, 3);
    assert.match(!r.ok ? r.problem : '', /missing/);
  });

  test('the newest entry deleted: the head the store kept names it', async () => {
    const { dir, keys, store } = await trail(5);
    await store.close();
    tamper(dir, (db, k) => db.removeSync(k[4]!));
    const r = await verifyAfter(dir, keys);
    assert.equal(!r.ok && r.seq, 5);
  });

  test('the oldest entry deleted (no retention ran): verify names entry 1', async () => {
    const { dir, keys, store } = await trail(4);
    await store.close();
    tamper(dir, (db, k) => db.removeSync(k[0]!));
    const r = await verifyAfter(dir, keys);
    assert.equal(!r.ok && r.seq, 1);
  });

  test('two entries swapped: verify fails at the first one out of place', async () => {
    const { dir, keys, store } = await trail(6);
    await store.close();
    tamper(dir, (db, k) => {
      const a = db.get(k[1]!)!;
      const b = db.get(k[2]!)!;
      db.putSync(k[1]!, b);
      db.putSync(k[2]!, a);
    });
    const r = await verifyAfter(dir, keys);
    assert.equal(!r.ok && r.seq, 2);
    assert.match(!r.ok ? r.problem : '', /out of order/);
  });

  test('an entry moved in time (its key changed) fails at that entry', async () => {
    const { dir, keys, store } = await trail(3);
    await store.close();
    tamper(dir, (db, k) => {
      const e = db.get(k[2]!)!;
      db.removeSync(k[2]!);
      db.putSync(
        k[2]!.replace(/:(\d+)\./, (_m, t: string) => `:${String(Number(t) + 5).padStart(15, '0')}.`),
        e,
      );
    });
    const r = await verifyAfter(dir, keys);
    assert.equal(!r.ok && r.seq, 3);
    assert.match(!r.ok ? r.problem : '', /moved/);
  });

  test('entries from before the chain are reported as not covered; an unsigned one after a signed one breaks it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-chain-'));
    dirs.push(dir);
    const keys = AuditKeys.loadOrCreate(auditKeyPath(dir));
    const store = openEmbeddedStore(dir);
    await store.appendAudit([ev(1), ev(2)], 'admin'); // no sealer yet: an older version
    store.useAuditSealer(new ChainSealer(keys));
    await store.appendAudit([ev(3), ev(4)], 'admin');
    assert.deepEqual(await verifyStream(store, keys, 'admin'), {
      ok: true,
      stream: 'admin',
      checked: 2,
      first: 1,
      last: 2,
      unsigned: 2,
    });
    await store.close();
    tamper(dir, (db, k) => db.putSync(k[3]!.replace(/\.(\d+)$/, '.999999'), ev(4)));
    const r = await verifyAfter(dir, keys);
    assert.equal(!r.ok && r.seq, 3);
    assert.match(!r.ok ? r.problem : '', /not signed/);
  });

  test('the event log bounded by count: the trimmed chain verifies from its anchor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-chain-'));
    dirs.push(dir);
    const keys = AuditKeys.loadOrCreate(auditKeyPath(dir));
    const store = openEmbeddedStore(dir, {
      auditRetention: { event: { maxAgeMs: 100 * 365 * 86_400_000, maxEvents: 3 } },
    });
    store.useAuditSealer(new ChainSealer(keys));
    for (let i = 1; i <= 6; i++) await store.appendAudit([ev(i, 'node.snapshot')], 'event');
    await store.pruneAudit();
    assert.deepEqual(await verifyStream(store, keys, 'event'), {
      ok: true,
      stream: 'event',
      checked: 3,
      first: 4,
      last: 6,
    });
    await store.close();
  });

  test('concurrent appends never fork the chain', async () => {
    const { keys, store } = await trail(0);
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.appendAudit([ev(i), ev(i)], 'admin')));
    const r = await verifyStream(store, keys, 'admin');
    assert.deepEqual(r, { ok: true, stream: 'admin', checked: 80, first: 1, last: 80 });
    await store.close();
  });

  test('a rotated key signs new entries; old entries verify with the old key, not without it', async () => {
    const { dir, keys, store } = await trail(3);
    AuditKeys.rotate(auditKeyPath(dir));
    const rotated = AuditKeys.load(auditKeyPath(dir));
    assert.notEqual(rotated.current.id, keys.current.id);
    store.useAuditSealer(new ChainSealer(rotated));
    await store.appendAudit([ev(4)], 'admin');
    assert.equal((await verifyStream(store, rotated, 'admin')).ok, true);
    const onlyNew = AuditKeys.fromKeys(rotated.current.id, { [rotated.current.id]: rotated.current.key });
    const r = await verifyStream(store, onlyNew, 'admin');
    assert.equal(!r.ok && r.seq, 1);
    assert.match(!r.ok ? r.problem : '', /unknown key/);
    await store.close();
  });

  test('a range verifies from the entry before it; a break outside the range is not reported', async () => {
    const { dir, keys, store } = await trail(8);
    await store.close();
    tamper(dir, (db, k) => db.removeSync(k[1]!)); // entry 2 gone
    assert.equal((await verifyAfter(dir, keys, { from: T0 + 4000 })).ok, true);
    const r = await verifyAfter(dir, keys, { from: T0 + 1000, to: T0 + 5000 });
    assert.equal(!r.ok && r.seq, 2);
    const part = await verifyAfter(dir, keys, { from: T0 + 4000, to: T0 + 6000 });
    assert.deepEqual(part, { ok: true, stream: 'admin', checked: 3, first: 4, last: 6 });
  });

  test('retention pruning keeps the chain verifiable from its anchor; a deletion after it still shows', async () => {
    let now = T0 + 10 * 1000;
    const { dir, keys, store } = await trail(10, { now: () => now, adminDays: 1 });
    now = T0 + 86_400_000 + 5500; // entries 1..5 are older than a day
    await store.pruneAudit();
    assert.equal((await store.listAudit(100, 'admin')).length, 5);
    assert.deepEqual(await verifyStream(store, keys, 'admin'), {
      ok: true,
      stream: 'admin',
      checked: 5,
      first: 6,
      last: 10,
    });
    await store.close();
    tamper(dir, (db, k) => db.removeSync(k[0]!)); // entry 6, the oldest kept
    const r = await verifyAfter(dir, keys);
    assert.equal(!r.ok && r.seq, 6);
  });
});
