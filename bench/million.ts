// `npm run bench -- --million` (or `node --import tsx bench/million.ts`): one million users with a
// token each, on the Redis store: snapshot, verify and restore times and each phase's peak RSS.
// Goals: snapshot and restore stream in bounded memory (peak RSS < 512 MiB), restore < 60 s.
// Not part of the default run: populating a million users alone takes minutes. BENCH_MILLION_USERS
// runs fewer (the 1M figures are then scaled linearly and say so); the restore is also run the
// earlier way, three store calls per user (BENCH_MILLION_OLD=0 skips it), for the ratio in the same
// run. On a shared machine compare CPU (cpuMs, redisCpuMs), not wall time.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startRedis } from '../test/harness/redis.ts';

const run = promisify(execFile);
const USERS = Number(process.env.BENCH_MILLION_USERS ?? 1_000_000);
const RSS_GOAL_MIB = 512;
const RESTORE_GOAL_MS = 60_000;

async function phase(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', new URL('./million-phase.ts', import.meta.url).pathname, ...args],
    { maxBuffer: 1 << 20, timeout: 30 * 60_000 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

export async function benchMillion(): Promise<Record<string, unknown>> {
  const redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-million-'));
  const file = join(dir, 'million.tsnap');
  const started = Date.now();
  try {
    const populate = await phase('populate', redis.url, String(USERS));
    const snapshot = await phase('snapshot', redis.url, file);
    const verify = await phase('verify', file);
    const restore = await phase('restore', redis.url, file);
    // The earlier path (three store calls per user) on the same snapshot, for the ratio.
    const perRecord =
      process.env.BENCH_MILLION_OLD === '0' ? null : await phase('restore-per-record', redis.url, file);
    const scale = 1_000_000 / USERS;
    const peak = Math.max(...[snapshot, verify, restore].map((p) => Number(p.maxRssMiB)));
    return {
      what: `${USERS} users with a token each (Redis store): snapshot, verify, restore; each phase in its own process`,
      users: USERS,
      populate,
      snapshot,
      verify,
      restore,
      restorePerRecord: perRecord,
      restoreSpeedup: perRecord
        ? {
            wallRatio: +(Number(perRecord.ms) / Number(restore.ms)).toFixed(2),
            cpuRatio: +(Number(perRecord.cpuMs) / Number(restore.cpuMs)).toFixed(2),
            redisCpuRatio: +(Number(perRecord.redisCpuMs) / Number(restore.redisCpuMs)).toFixed(2),
          }
        : null,
      extrapolatedTo1M:
        USERS === 1_000_000
          ? null
          : {
              note: `measured at ${USERS} users, scaled linearly to 1,000,000`,
              restoreMs: Math.round(Number(restore.ms) * scale),
              restorePerRecordMs: perRecord ? Math.round(Number(perRecord.ms) * scale) : null,
            },
      goals: {
        peakRssMiB: peak,
        peakRssUnder512MiB: peak < RSS_GOAL_MIB,
        restoreMs: restore.ms,
        restoreUnder60s: Number(restore.ms) * scale < RESTORE_GOAL_MS,
      },
      totalMinutes: +((Date.now() - started) / 60_000).toFixed(1),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await redis.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await benchMillion(), null, 2)}\n`);
}
