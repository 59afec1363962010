#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

register();
// V8's settings first, before the app's modules load (src/server/v8-tuning.ts says why).
const { tuneV8 } = await import('../src/server/v8-tuning.ts');
tuneV8();
const { main } = await import('../src/cli/main.ts');
const { exitWhenDone } = await import('../src/cli/exit-guard.ts');
process.exitCode = await main(process.argv.slice(2));
exitWhenDone(5_000);
