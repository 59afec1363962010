// `npm run bench`: prints one JSON document of measured figures. Each figure is a ratio against a
// baseline measured in the same run, because the machines are shared and noisy.
import { existsSync } from 'node:fs';
import { benchValidate } from './validate.ts';

const results: Record<string, unknown> = {
  machine: { node: process.version, cpus: (await import('node:os')).cpus().length },
};
results.validateEmbedded = await benchValidate();

for (const [name, file, fn] of [
  ['auditCost', './audit-cost.ts', 'benchAuditCost'],
  ['auditSize', './audit-size.ts', 'benchAuditSize'],
  ['pinFlood', './pin-flood.ts', 'benchPinFlood'],
  ['radius', './radius.ts', 'benchRadius'],
  ['redis', './redis.ts', 'benchRedis'],
  ['directory', './directory.ts', 'benchDirectory'],
  ['console', './console.ts', 'benchConsole'],
] as const) {
  if (!existsSync(new URL(file, import.meta.url))) continue;
  try {
    const mod = (await import(file)) as Record<string, () => Promise<unknown>>;
    results[name] = await mod[fn]!();
  } catch (err) {
    results[name] = { error: err instanceof Error ? err.message : String(err) };
  }
}
// A million users with a token each takes minutes to populate: only when asked
// (`npm run bench -- --million`; alone: `node --import tsx bench/million.ts`).
if (process.argv.includes('--million')) {
  try {
    results.million = await (await import('./million.ts')).benchMillion();
  } catch (err) {
    results.million = { error: err instanceof Error ? err.message : String(err) };
  }
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
