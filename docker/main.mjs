// The image's entry point: the same `tessera` command as bin/tessera.mjs, on the compiled sources.
import { main } from '../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
