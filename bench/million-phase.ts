// One phase of the million-user benchmark (bench/million.ts), in a process of its own so that its
// peak RSS is its own: `populate URL N`, `snapshot URL FILE`, `verify FILE`, `restore URL FILE`,
// `restore-per-record URL FILE` (the earlier path: createUser, putToken, advanceTokenState per
// record, for the ratio in the same run).
// Prints one JSON line: {ms, maxRssMiB, ...}.
import { statSync } from 'node:fs';
import { Redis } from 'ioredis';
import { restoreSnapshot } from '../src/cluster/restore.ts';
import { writeSnapshotFile } from '../src/cluster/snapshot.ts';
import { verifySnapshot } from '../src/cluster/snapshot-format.ts';
import { fileSource } from '../src/cluster/snapshot-stream.ts';
import { KeyRing } from '../src/crypto/index.ts';
import type { Token } from '../src/model/index.ts';
import { sampleUser } from '../src/store/fixtures.ts';
import type { RestoreBatchEntry, RestoreBatchResult, Store } from '../src/store/index.ts';
import { openRedisStore } from '../src/store/redis/index.ts';

const secret = { key: Buffer.alloc(32, 3) };
const COMPONENTS = ['users', 'tokens', 'clients', 'settings'] as const;

function name(i: number): string {
  return `user${String(i).padStart(7, '0')}`;
}

/** N users, each with one token (one in ten HOTP) and a used-code state. */
async function populate(store: Store, n: number): Promise<Record<string, unknown>> {
  const ring = KeyRing.generate();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const serial = `TOTP${String(i).padStart(8, '0')}`;
      await store.createUser({ ...sampleUser(name(i)), email: `${name(i)}@example.org` });
      const token: Token = {
        serial,
        username: name(i),
        type: i % 10 === 0 ? 'hotp' : 'totp',
        isDefault: true,
        status: 'active',
        algorithm: 'SHA1',
        digits: 6,
        period: 30,
        secretSealed: ring.seal(Buffer.alloc(20, i % 251), serial),
        createdAt: 1,
        updatedAt: 1,
      };
      await store.putToken(token);
      await store.advanceTokenState(serial, { counter: i % 50, lastUsedStep: 1000 + (i % 7), drift: 0 });
    }
  };
  await Promise.all(Array.from({ length: 256 }, worker));
  return { users: await store.countUsers() };
}

/** The store with restoreBatch done as the restore did before it: three store calls per user. */
function perRecord(store: Store): Store {
  const restoreBatch = async (entries: readonly RestoreBatchEntry[]): Promise<RestoreBatchResult[]> => {
    const out: RestoreBatchResult[] = new Array(entries.length);
    let next = 0;
    const worker = async () => {
      while (next < entries.length) {
        const i = next++;
        const e = entries[i]!;
        let user: RestoreBatchResult['user'] = 'none';
        if (e.user)
          user = (await store.createUser(e.user))
            ? 'created'
            : (await store.updateUser(e.user))
              ? 'replaced'
              : 'none';
        const tokens: boolean[] = [];
        for (const { token, state } of e.tokens) {
          const ok = await store.putToken(token);
          if (ok) await store.advanceTokenState(token.serial, state);
          tokens.push(ok);
        }
        out[i] = { user, tokens };
      }
    };
    await Promise.all(Array.from({ length: 256 }, worker));
    return out;
  };
  return new Proxy(store, {
    get: (target, key, receiver) =>
      key === 'restoreBatch' ? restoreBatch : Reflect.get(target, key, receiver),
  });
}

/** redis-server's own CPU seconds so far (INFO cpu), to tell its share from ours on a busy machine. */
async function redisCpuMs(url: string | undefined): Promise<number | null> {
  if (!url?.startsWith('redis')) return null;
  const r = new Redis(url);
  try {
    const info = await r.info('cpu');
    const read = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
    return Math.round((read('used_cpu_user') + read('used_cpu_sys')) * 1000);
  } finally {
    r.disconnect();
  }
}

async function main(): Promise<void> {
  const [phase, a, b] = process.argv.slice(2);
  const redisBefore = await redisCpuMs(a);
  const started = Date.now();
  let extra: Record<string, unknown> = {};
  if (phase === 'verify') {
    const opened = await verifySnapshot(fileSource(a!), secret);
    extra = { counts: opened.manifest.counts };
  } else {
    const prefix = phase === 'restore' ? 'dst:' : phase === 'restore-per-record' ? 'old:' : 'src:';
    const store = await openRedisStore({ url: a!, prefix });
    try {
      if (phase === 'populate') extra = await populate(store, Number(b));
      else if (phase === 'snapshot') {
        const manifest = await writeSnapshotFile(store, b!, {
          secret,
          components: COMPONENTS,
          node: 'bench',
        });
        extra = { counts: manifest.counts, fileBytes: statSync(b!).size };
      } else if (phase === 'restore' || phase === 'restore-per-record') {
        const opened = await verifySnapshot(fileSource(b!), secret);
        const verifiedMs = Date.now() - started;
        const target = phase === 'restore' ? store : perRecord(store);
        const report = await restoreSnapshot(target, opened, { components: COMPONENTS });
        extra = {
          verifyPartMs: verifiedMs,
          usersCreated: report.usersCreated,
          tokensRestored: report.tokensRestored,
          totpFloored: report.totpFloored,
          hotpResyncRequired: report.hotpResyncRequired.length,
          restoredUsersInStore: await store.countUsers(),
        };
      } else throw new Error(`unknown phase ${phase}`);
    } finally {
      await store.close();
    }
  }
  const ms = Date.now() - started;
  const maxRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  const cpu = process.cpuUsage();
  // CPU time is what the phase costs whatever else shares the machine; wall time is not.
  const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  const redisAfter = await redisCpuMs(a);
  const redisCpu =
    redisBefore !== null && redisAfter !== null ? { redisCpuMs: redisAfter - redisBefore } : {};
  process.stdout.write(`${JSON.stringify({ phase, ms, cpuMs, ...redisCpu, maxRssMiB, ...extra })}\n`);
}

await main();
