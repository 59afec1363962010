import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings every Tessera process takes before it loads the app (bin/tessera.mjs,
 * docker/main.mjs; the bench's node, bench/serve.ts).
 *
 * `--no-allocation-site-pretenuring`: V8 watches which object literals' objects survive young
 * collections and, past a threshold, allocates every later object of that literal straight in the
 * old generation, for good (a decision is never taken back). A node sees long-lived objects while
 * it loads, imports users or runs a directory sync, and short-lived ones at every login after that;
 * the literals they share (decoded records, LMDB's write bookkeeping) were then born old on every
 * login and freed only by mark-compacts. At 4,300 logins/s (open loop, --trace-gc-nvp) the old
 * generation grew about 310 KB per scavenge with V8's default and 200 KB with the decision off;
 * the validator alone, 143 KB against none. Tessera's long-lived data lives in the store, not in
 * the heap, so there is little for pretenuring to save.
 */
export const TESSERA_V8_FLAGS: readonly string[] = ['--no-allocation-site-pretenuring'];

/** Sets TESSERA_V8_FLAGS in this process. Call it before the app's modules load. */
export function tuneV8(): void {
  for (const flag of TESSERA_V8_FLAGS) setFlagsFromString(flag);
}
