// `npm run bench -- --million`: validate throughput with 1,000,000 users enrolled, as a ratio to a
// node with the default population (bench/validate.ts), runs alternated; and each node's RSS. Both
// nodes start on a store written before by another process, as a node in service does.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerProcess, startServer } from './procs.ts';
import { ROUNDS, range, ratio, SECONDS, Slices, USERS_PER_RUN } from './validate.ts';
import { ensureWrk, runWrk, type WrkFigures } from './wrk.ts';

const MILLION = Number(process.env.BENCH_MILLION_USERS ?? 1_000_000);

export async function benchMillion(): Promise<Record<string, unknown>> {
  ensureWrk();
  const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'tessera-bench-node-')));
  const runs = ROUNDS + 1;
  let small: ServerProcess | undefined;
  let large: ServerProcess | undefined;
  try {
    const smallCount = USERS_PER_RUN * runs;
    const enrolled = await Promise.all([
      startedOnExisting(dirs[0]!, smallCount),
      startedOnExisting(dirs[1]!, MILLION),
    ]);
    small = enrolled[0].server;
    large = enrolled[1].server;
    // The large node's runs take users from all over its population, not only the first ones.
    const stride = Math.floor(MILLION / runs);
    const slices = {
      small: new Slices(small, 'u', smallCount),
      large: Array.from({ length: runs }, (_, i) => new Slices(large!, 'u', (i + 1) * stride, i * stride)),
    };
    let k = 0;
    const target = (name: 'small' | 'large') =>
      name === 'small' ? slices.small.take() : slices.large[k++]!.take();
    await runWrk(target('small'), { seconds: 2 });
    await runWrk(target('large'), { seconds: 2 });
    const rounds: { small: WrkFigures; large: WrkFigures }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const round = {} as { small: WrkFigures; large: WrkFigures };
      for (const name of r % 2 === 0 ? (['small', 'large'] as const) : (['large', 'small'] as const))
        round[name] = await runWrk(target(name), { seconds: SECONDS });
      rounds.push(round);
    }
    const per = (f: (r: (typeof rounds)[number]) => number) => range(rounds.map(f));
    return {
      what: `accepted codes per second with ${MILLION} users enrolled vs ${smallCount} (embedded store), runs alternated`,
      populateSeconds: {
        small: Math.round(enrolled[0].populateMs / 1000),
        large: Math.round(enrolled[1].populateMs / 1000),
      },
      acceptsPerSecond: {
        large: per((r) => r.large.acceptsPerSecond),
        small: per((r) => r.small.acceptsPerSecond),
      },
      ratios: { largeToSmall: per((r) => ratio(r.large.acceptsPerSecond, r.small.acceptsPerSecond)) },
      rssMiB: {
        large: Math.round((await large.rss()) / 2 ** 20),
        small: Math.round((await small.rss()) / 2 ** 20),
      },
      rssPartsMiB: {
        what: "/proc/<pid>/status: anon is the process's own memory (heap, buffers); file is pages of the LMDB map it has touched, the kernel's page cache, shared and dropped under memory pressure",
        large: rssParts(large.pid),
        small: rssParts(small.pid),
      },
      runs: rounds,
      aim: 'largeToSmall >= 0.9; large RSS < 1024 MiB',
    };
  } finally {
    await small?.stop();
    await large?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await benchMillion(), null, 2)}\n`);
}

/**
 * A node started on a store that already holds `count` users, as an operator runs one: the users
 * are written by a first process, which then stops. Measured in the writing process instead, the
 * resident set held every page of the map the writes had touched (about 1.1 GiB for a million).
 */
async function startedOnExisting(
  dataDir: string,
  count: number,
): Promise<{ server: ServerProcess; populateMs: number }> {
  const writer = await startServer({
    kind: 'tessera',
    env: { TESSERA_DATA_DIR: dataDir },
    population: { prefix: 'u', count },
  });
  const populateMs = writer.populateMs;
  await writer.stop();
  const server = await startServer({
    kind: 'tessera',
    env: { TESSERA_DATA_DIR: dataDir },
    population: { prefix: 'u', count: 0 },
  });
  return { server, populateMs };
}

/** The resident set by kind (MiB), from the kernel's own accounting of the process. */
function rssParts(pid: number): Record<'anon' | 'file' | 'shmem', number> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return {
    anon: Math.round(kib('RssAnon') / 1024),
    file: Math.round(kib('RssFile') / 1024),
    shmem: Math.round(kib('RssShmem') / 1024),
  };
}
