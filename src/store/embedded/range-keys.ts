import type { Database } from 'lmdb';

/** How lmdb's range iterables iterate (`RangeIterable.iterate`); not in its type definitions. */
interface Iterates {
  iterate?: () => Iterator<string>;
}

/**
 * The keys of `db` from `start` (inclusive) to `end` (exclusive), in key order.
 *
 * Read through the range's own `iterate()`, not `for...of`: `for...of` goes through the
 * iterable's `[Symbol.iterator]`, which keeps the iterator on the iterable (`this.iterator = …`).
 * V8 pretenures that iterable (its allocation site has seen survivors, so it is born in the old
 * generation), and the store is then an old-to-young pointer that carries each call's iterator,
 * closures and key strings through the next scavenge into the old generation, where only a full
 * collection frees them. On the bare limit route of the bench (bench/limit-server.ts), one such
 * range read per request at 4,300 requests/s promoted about 1 MB per scavenge and brought 3–4
 * mark-compacts in 10 s; read through `iterate()`, or with V8's pretenuring switched off, about
 * 0.1–0.2 MB and none. A node now runs with pretenuring off (tuneV8, src/server/v8-tuning.ts);
 * `iterate()` stays, for the processes that do not (tests, tools) and for the 0.1 MB it still saves.
 */
export function keysBetween(db: Database<unknown, string>, start: string, end: string): string[] {
  const range = db.getKeys({ start, end });
  const keys: string[] = [];
  const iterate = (range as unknown as Iterates).iterate;
  if (typeof iterate !== 'function') {
    // another lmdb release: the plain protocol, which gives the same keys
    for (const key of range) keys.push(key);
    return keys;
  }
  const it = iterate.call(range);
  for (let r = it.next(); r.done !== true; r = it.next()) keys.push(r.value);
  return keys;
}
