import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings } from '../src/admin/settings.ts';
import { KeyRing } from '../src/crypto/index.ts';
import { sealSource, syncSource } from '../src/directory/index.ts';
import { openEmbeddedStore } from '../src/store/index.ts';
import { groupLdif, personLdif, startSlapd } from '../test/harness/slapd.ts';

const USERS = Number(process.env.BENCH_DIRECTORY_USERS ?? 50_000);

/** A first sync of USERS directory users into an empty embedded store, then a sync with nothing to do. */
export async function benchDirectory(): Promise<Record<string, number>> {
  const slapd = await startSlapd();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-dir-'));
  const store = openEmbeddedStore(dir);
  try {
    const loadStart = Date.now();
    const batch = 5000;
    for (let from = 0; from < USERS; from += batch) {
      const people: string[] = [];
      for (let i = from; i < Math.min(USERS, from + batch); i++) {
        people.push(personLdif({ uid: `u${i}`, cn: `User ${i}`, mail: `u${i}@example.org` }));
      }
      slapd.ldif(people.join('\n'));
    }
    slapd.ldif(groupLdif('staff', ['u0', 'u1', 'u2']));
    const loadMs = Date.now() - loadStart;
    const ring = KeyRing.generate();
    const source = sealSource(
      {
        name: 'bench',
        url: slapd.url,
        bindDn: slapd.rootDn,
        bindPassword: slapd.rootPassword,
        baseDn: slapd.suffix,
        preset: 'openldap',
        pageSize: 1000,
        timeoutMs: 120_000,
      },
      ring,
      Date.now(),
    );
    const ctx = { store, keyring: ring, settings: () => loadSettings(store), audit: () => {} };
    const heapBefore = process.memoryUsage().heapUsed;
    let peakRss = 0;
    const sample = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    const firstStart = Date.now();
    let readEnd = 0;
    const first = await syncSource(ctx, source, {
      onProgress: (p) => {
        if (p.phase === 'read') readEnd = Date.now();
      },
    });
    const firstMs = Date.now() - firstStart;
    const againStart = Date.now();
    const again = await syncSource(ctx, source);
    const againMs = Date.now() - againStart;
    clearInterval(sample);
    return {
      users: USERS,
      ldifLoadMs: loadMs,
      firstSyncMs: firstMs,
      firstSyncReadMs: readEnd - firstStart,
      firstSyncCreated: first.created,
      noChangeSyncMs: againMs,
      noChangeSyncUpdated: again.updated,
      usersPerSecond: Math.round((USERS / firstMs) * 1000),
      peakRssMb: Math.round(peakRss / 1e6),
      heapGrowthMb: Math.round((process.memoryUsage().heapUsed - heapBefore) / 1e6),
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    await slapd.stop();
  }
}

if (process.argv[1]?.endsWith('directory.ts')) {
  const r = await benchDirectory();
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  process.stdout.write(
    `${r.users} directory users synced in ${((r.firstSyncMs ?? 0) / 1000).toFixed(1)} s (goal: under 60 s), peak RSS ${r.peakRssMb} MB\n`,
  );
}
