// `npm run bench -- --million`: validate throughput with 1,000,000 users enrolled, as a ratio to a
// node with the default population (bench/validate.ts), runs alternated; and each node's RSS.
import { mkdtempSync, rmSync } from 'node:fs';
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
    small = await startServer({
      kind: 'tessera',
      env: { TESSERA_DATA_DIR: dirs[0]! },
      population: { prefix: 'u', count: smallCount },
    });
    large = await startServer({
      kind: 'tessera',
      env: { TESSERA_DATA_DIR: dirs[1]! },
      population: { prefix: 'u', count: MILLION },
    });
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
        small: Math.round(small.populateMs / 1000),
        large: Math.round(large.populateMs / 1000),
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
