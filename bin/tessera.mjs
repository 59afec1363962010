#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const { exitWhenDone } = await import('../src/cli/exit-guard.ts');
process.exitCode = await main(process.argv.slice(2));
exitWhenDone(5_000);
