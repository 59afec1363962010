import type { AuditEvent } from '../model/index.ts';
import { below } from '../store/audit-index.ts';
import type { AuditPosition, AuditStream, Store } from '../store/index.ts';

/** An event as a reader walks a stream: its place (time, append sequence) and the event. */
export interface AuditScanItem extends AuditPosition {
  event: AuditEvent;
}

/** The stores that can walk a stream in order (both built-in stores can). */
export function canScanAudit(store: Store): boolean {
  return typeof store.seekAudit === 'function' && typeof store.readAudit === 'function';
}

/**
 * One stream newest first, from `from` (inclusive, a time) down, lazily and in chunks, on the same
 * index seeks the search uses: a reader that stops early (a dashboard, a failover list) reads only
 * what it looked at; a backup walks the whole stream in bounded memory.
 */
export async function* scanAudit(
  store: Store,
  stream: AuditStream,
  range: { from?: number } = {},
  chunk = 500,
): AsyncIterable<AuditScanItem> {
  if (!store.seekAudit || !store.readAudit) return;
  let at: AuditPosition | undefined;
  for (;;) {
    const hits = await store.seekAudit(stream, {
      ...(at ? { atOrBelow: at } : {}),
      ...(range.from !== undefined ? { from: range.from } : {}),
      limit: chunk,
    });
    if (hits.length === 0) return;
    const missing = hits.filter((h) => !h.event);
    if (missing.length > 0) {
      const events = await store.readAudit(stream, missing);
      missing.forEach((h, i) => {
        const e = events[i];
        if (e) h.event = e;
      });
    }
    for (const h of hits) if (h.event) yield { time: h.time, seq: h.seq, event: h.event };
    const last = hits[hits.length - 1];
    if (!last || hits.length < chunk) return;
    at = below(last);
  }
}
