import type { AuditEvent } from '../model/index.ts';
import { AUDIT_STREAMS, type AuditScanItem, type AuditStream, type Store } from '../store/index.ts';

export interface AuditQuery {
  /** One stream, or all of them merged. */
  stream?: AuditStream;
  /** Times in milliseconds, inclusive. */
  from?: number;
  to?: number;
  user?: string;
  result?: string;
  reason?: string;
  limit: number;
  /** Where the previous page stopped (from `next`). */
  cursor?: string;
}

export interface AuditPage {
  items: AuditEvent[];
  /** The cursor of the next page; null when there is no more. */
  next: string | null;
}

/** At most this many events are read for one page; a page that found fewer still has a cursor. */
export const MAX_SCANNED = 50_000;

type Position = { time: number; order: string };

export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([p.time, p.order])).toString('base64url');
}

/** The position a cursor names, or null when it is not one this API gave out. */
export function decodeCursor(text: string): Position | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string')
      return { time: v[0] as number, order: v[1] as string };
  } catch {}
  return null;
}

/** Newest first: later time, then later order. */
function newer(a: AuditScanItem, b: AuditScanItem): boolean {
  return a.time > b.time || (a.time === b.time && a.order > b.order);
}

function matches(e: AuditEvent, q: AuditQuery): boolean {
  return (
    (q.user === undefined || e.username === q.user) &&
    (q.result === undefined || e.result === q.result) &&
    (q.reason === undefined || e.reason === q.reason)
  );
}

/**
 * One page of the audit trail, newest first: the streams are read lazily from the cursor down
 * (each store keeps a stream in time order), merged, filtered, and cut at `limit`. A page never
 * reads more than MAX_SCANNED events, so a filter that matches little costs pages, not a timeout.
 */
export async function searchAudit(store: Store, q: AuditQuery, maxScanned = MAX_SCANNED): Promise<AuditPage> {
  if (!store.scanAudit) throw new Error(`the ${store.kind} store cannot search the audit trail`);
  const after = q.cursor === undefined ? undefined : (decodeCursor(q.cursor) ?? undefined);
  const range = {
    ...(q.from !== undefined ? { from: q.from } : {}),
    ...(q.to !== undefined ? { to: q.to } : {}),
    ...(after ? { after } : {}),
  };
  const scan = store.scanAudit.bind(store);
  const iterators = (q.stream ? [q.stream] : AUDIT_STREAMS).map((s) =>
    scan(s, range)[Symbol.asyncIterator](),
  );
  const heads: (AuditScanItem | null)[] = await Promise.all(
    iterators.map(async (it) => (await it.next()).value ?? null),
  );
  const items: AuditEvent[] = [];
  let last: AuditScanItem | null = null;
  let scanned = 0;
  while (items.length < q.limit && scanned < maxScanned) {
    let pick = -1;
    heads.forEach((h, i) => {
      if (h && (pick < 0 || newer(h, heads[pick]!))) pick = i;
    });
    if (pick < 0) return { items, next: null };
    const item = heads[pick]!;
    heads[pick] = (await iterators[pick]!.next()).value ?? null;
    scanned++;
    last = item;
    if (matches(item.event, q)) items.push(item.event);
  }
  await Promise.all(iterators.map((it) => it.return?.()));
  const more = heads.some((h) => h !== null);
  return { items, next: more && last ? encodeCursor(last) : null };
}
