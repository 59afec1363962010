// `npm run bench`: prints one JSON document of measured figures. Each figure is a ratio against a
// baseline measured in the same run, because the machines are shared and noisy.
//   npm run bench                      validate (embedded), redis, radius: about 5 minutes
//   npm run bench -- --only validate   named sections only (comma-separated)
//   npm run bench -- --all             also pinFlood and directory
//   npm run bench -- --peers           also privacyIDEA side by side (installs it into ~/.cache)
//   npm run bench -- --million         also 1,000,000 users: validate throughput, and snapshot/verify/restore
// A section that fails (e.g. a reject in an accept run) is reported as an error and the command
// exits non-zero.
import { existsSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

const argv = process.argv.slice(2);
const only = argv.includes('--only') ? (argv[argv.indexOf('--only') + 1] ?? '').split(',') : null;
const SECTIONS = [
  ['validate', './validate.ts', 'benchValidate', true],
  ['redis', './redis.ts', 'benchRedis', true],
  ['radius', './radius.ts', 'benchRadius', true],
  ['pinFlood', './pin-flood.ts', 'benchPinFlood', argv.includes('--all')],
  ['directory', './directory.ts', 'benchDirectory', argv.includes('--all')],
  ['peers', './peers.ts', 'benchPeers', argv.includes('--peers')],
  ['auditSize', './audit-size.ts', 'benchAuditSize', true],
  ['console', './console.ts', 'benchConsole', true],
  ['push', './push.ts', 'benchPush', true],
  ['million', './million-validate.ts', 'benchMillion', argv.includes('--million')],
  ['millionBackup', './million.ts', 'benchMillion', argv.includes('--million')],
] as const;

const results: Record<string, unknown> = {
  machine: {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverage1mAtStart: +loadavg()[0]!.toFixed(2),
  },
};
let failed = false;
const started = Date.now();
for (const [name, file, fn, byDefault] of SECTIONS) {
  if (only ? !only.includes(name) : !byDefault) continue;
  if (!existsSync(new URL(file, import.meta.url))) continue;
  const t = Date.now();
  try {
    const mod = (await import(file)) as Record<string, () => Promise<Record<string, unknown>>>;
    results[name] = { ...(await mod[fn]!()), seconds: Math.round((Date.now() - t) / 1000) };
  } catch (err) {
    failed = true;
    results[name] = { error: err instanceof Error ? err.message : String(err) };
  }
}
results.seconds = Math.round((Date.now() - started) / 1000);
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
if (failed) process.exitCode = 1;
