#!/usr/bin/env node
// `npm test`: provisions the Debian components once, then runs every Vitest project (unit,
// integration, e2e). Arguments are passed to Vitest (e.g. `npm test -- --project unit radius`).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const unitOnly =
  args.join(' ').match(/--project[= ]unit\b/) && !args.join(' ').match(/--project[= ](integration|e2e)/);

if (!unitOnly) {
  const prep = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'test/harness/provision.ts')], {
    stdio: 'inherit',
    cwd: root,
  });
  if (prep.status !== 0) process.exit(prep.status ?? 1);
}

const vitest = join(root, 'node_modules/vitest/vitest.mjs');
const res = spawnSync(process.execPath, [vitest, 'run', ...args], { stdio: 'inherit', cwd: root });
process.exit(res.status ?? 1);
