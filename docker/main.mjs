// The image's entry point: the same `tessera` command as bin/tessera.mjs, on the compiled sources.
// V8's settings first, before the app's modules load (src/server/v8-tuning.ts says why).
const { tuneV8 } = await import('../src/server/v8-tuning.js');
tuneV8();
const { main } = await import('../src/cli/main.js');

process.exitCode = await main(process.argv.slice(2));
