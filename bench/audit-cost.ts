import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../src/store/index.ts';
import { type ValidateFigures, validateOn } from './validate.ts';

async function run(authLog: boolean, seconds: number, concurrency: number): Promise<ValidateFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-audit-'));
  try {
    return await validateOn(openEmbeddedStore(dir), seconds, concurrency, { authLog });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `npm run bench` → auditCost: validate throughput with every decision in the authentication log
 * (stored in batches, off the request path) against the same node with the log off. The runs go
 * off, on, on, off, so a drift of the shared machine's load falls on both sides alike; `ratio` is
 * the summed throughput on over off, `noopRatio` the same after dividing each run by its own no-op
 * route figure.
 */
export async function benchAuditCost(
  seconds = Number(process.env.BENCH_SECONDS ?? 8),
): Promise<Record<string, unknown>> {
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
  const runs: { on: boolean; figures: ValidateFigures }[] = [];
  for (const on of [false, true, true, false])
    runs.push({ on, figures: await run(on, seconds, concurrency) });
  const side = (on: boolean) => runs.filter((r) => r.on === on).map((r) => r.figures);
  const sum = (fs: ValidateFigures[], f: (x: ValidateFigures) => number) => fs.reduce((a, x) => a + f(x), 0);
  const [off, on] = [side(false), side(true)];
  return {
    what: 'TOTP validate over HTTP on the embedded store, authentication log on vs off (runs off, on, on, off)',
    concurrency,
    offPerSecond: off.map((f) => f.validate.perSecond),
    onPerSecond: on.map((f) => f.validate.perSecond),
    ratio: +(sum(on, (f) => f.validate.perSecond) / sum(off, (f) => f.validate.perSecond)).toFixed(3),
    noopRatio: +(sum(on, (f) => f.ratio) / sum(off, (f) => f.ratio)).toFixed(3),
    aim: '>= 0.9',
  };
}
