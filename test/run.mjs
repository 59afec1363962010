#!/usr/bin/env node
// `npm test`: provisions the Debian components once, then runs every *.test.ts with node's runner.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : 'all';
const filters = process.argv.slice(2).filter((a, i, all) => a !== '--only' && all[i - 1] !== '--only');

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const unitDirs = ['src', 'plugin'];
const allDirs = [...unitDirs, 'test'];
let files = (only === 'unit' ? unitDirs : allDirs).flatMap((d) => find(join(root, d))).sort();
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

if (only !== 'unit') {
  const prep = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'test/harness/provision.ts')], {
    stdio: 'inherit',
    cwd: root,
  });
  if (prep.status !== 0) process.exit(prep.status ?? 1);
}

const args = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=900000', ...files];
const res = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root, env: { ...process.env } });
process.exit(res.status ?? 1);
