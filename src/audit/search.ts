import type { AuditEvent } from '../model/index.ts';
import {
  AUDIT_STREAMS,
  type AuditHit,
  type AuditIndexField,
  type AuditPosition,
  type AuditStream,
  below,
  comparePositions,
  MAX_SEQ,
  type Store,
} from '../store/index.ts';

/** The filters a search takes besides time; each is an index in both stores. */
export const AUDIT_FILTERS = [
  'user',
  'client',
  'result',
  'reason',
  'node',
] as const satisfies readonly AuditIndexField[];

export interface AuditQuery extends Partial<Record<AuditIndexField, string>> {
  /** One stream, or all of them merged. */
  stream?: AuditStream;
  /** Times in milliseconds, inclusive. */
  from?: number;
  to?: number;
  limit: number;
  /** Where the previous page stopped (from `next`). */
  cursor?: string;
}

export interface AuditPage {
  items: AuditEvent[];
  /** The cursor of the next page; null when there is no more. */
  next: string | null;
}

/**
 * At most this many store steps (entries read or index seeks) for one page: a combination of
 * filters that matches little costs more pages, each bounded, never a timeout.
 */
export const MAX_STEPS = 1_000;

/**
 * A place in the merged listing: newest first by time, then sequence, then stream (`*` sorts above
 * every stream: "this position in every stream", where a page ran out of steps).
 */
type Place = AuditPosition & { stream: AuditStream | '*' };

const rank = (s: AuditStream | '*') => (s === '*' ? AUDIT_STREAMS.length : AUDIT_STREAMS.indexOf(s));

function newer(a: Place, b: Place): boolean {
  return comparePositions(a, b) > 0 || (comparePositions(a, b) === 0 && rank(a.stream) > rank(b.stream));
}

export function encodeCursor(p: Place): string {
  return Buffer.from(JSON.stringify([p.time, p.seq, p.stream])).toString('base64url');
}

/** The place a cursor names, or null when it is not one this API gave out. */
export function decodeCursor(text: string): Place | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      v.length === 3 &&
      Number.isSafeInteger(v[0]) &&
      Number.isSafeInteger(v[1]) &&
      (v[2] === '*' || (AUDIT_STREAMS as readonly unknown[]).includes(v[2]))
    )
      return { time: v[0] as number, seq: v[1] as number, stream: v[2] as Place['stream'] };
  } catch {}
  return null;
}

type Where = { field: AuditIndexField; value: string };
type Item = Place & { stream: AuditStream; event: AuditEvent };

/** The page's shared step budget. */
class Budget {
  constructor(private left: number) {}
  spend(n = 1): boolean {
    this.left -= n;
    return this.left >= 0;
  }
}

/**
 * One stream's matches, newest first, read lazily. No filter or one: the stream or that index,
 * read in chunks from the bound down. Several: a leapfrog join of their indexes (each seek finds
 * the newest entry of one index at or below the candidate; a candidate every index agrees on is a
 * match), so a page costs seeks in proportion to what it skips over, not to the trail's size.
 */
class StreamMatches {
  /** Everything above this (inclusive bound) is settled: yielded or ruled out. */
  bound: AuditPosition | null;
  private chunk: AuditHit[] = [];
  /** The last seek came back short: once its chunk is used up, the stream has no more. */
  private exhausted = false;
  done = false;

  constructor(
    private readonly store: Required<Pick<Store, 'seekAudit' | 'readAudit'>>,
    readonly stream: AuditStream,
    private readonly wheres: Where[],
    start: AuditPosition | null,
    private readonly from: number | undefined,
    private readonly chunkSize: number,
    private readonly budget: Budget,
  ) {
    this.bound = start;
  }

  private seek(where: Where | undefined, at: AuditPosition | null, limit: number) {
    return this.store.seekAudit(this.stream, {
      ...(where ? { where } : {}),
      ...(at ? { atOrBelow: at } : {}),
      ...(this.from !== undefined ? { from: this.from } : {}),
      limit,
    });
  }

  /** The next match, or null when the stream has no more or the page's budget ran out. */
  async next(): Promise<Item | null> {
    if (this.done) return null;
    const hit = this.wheres.length > 1 ? await this.leap() : await this.read();
    if (!hit) return null;
    this.bound = below(hit);
    const event = hit.event ?? (await this.store.readAudit(this.stream, [hit]))[0] ?? null;
    // retention dropped it between the index and the read: go on below it
    if (!event) return this.next();
    return { time: hit.time, seq: hit.seq, stream: this.stream, event };
  }

  private async read(): Promise<AuditHit | null> {
    if (this.chunk.length === 0) {
      if (this.exhausted) {
        this.done = true;
        return null;
      }
      if (!this.budget.spend(this.chunkSize)) return null;
      this.chunk = await this.seek(this.wheres[0], this.bound, this.chunkSize);
      this.exhausted = this.chunk.length < this.chunkSize;
      if (this.chunk.length === 0) {
        this.done = true;
        return null;
      }
      const missing = this.chunk.filter((h) => !h.event);
      if (missing.length > 0) {
        const events = await this.store.readAudit(this.stream, missing);
        missing.forEach((h, i) => {
          if (events[i]) h.event = events[i];
        });
      }
    }
    return this.chunk.shift() ?? null;
  }

  private async leap(): Promise<AuditHit | null> {
    let candidate = this.bound;
    let agreed = 0;
    for (let i = 0; ; i = (i + 1) % this.wheres.length) {
      if (!this.budget.spend()) {
        this.bound = candidate;
        return null;
      }
      const [p] = await this.seek(this.wheres[i], candidate, 1);
      if (!p) {
        this.done = true;
        return null;
      }
      if (candidate && comparePositions(p, candidate) === 0) agreed++;
      else {
        candidate = p;
        agreed = 1;
      }
      if (agreed === this.wheres.length) return p;
    }
  }
}

function matches(e: AuditEvent, q: AuditQuery): boolean {
  const actorClient = e.actor?.startsWith('client:') ? e.actor.slice(7) : undefined;
  return (
    (q.user === undefined || e.username === q.user) &&
    (q.client === undefined || actorClient === q.client) &&
    (q.result === undefined || e.result === q.result) &&
    (q.reason === undefined || e.reason === q.reason) &&
    (q.node === undefined || e.detail?.node === q.node)
  );
}

/** Where a stream starts for this query: below the cursor (its stream sorts lower at a tie) and `to`. */
function startOf(stream: AuditStream, q: AuditQuery, after: Place | null): AuditPosition | null {
  let start: AuditPosition | null = q.to === undefined ? null : { time: q.to, seq: MAX_SEQ };
  if (after) {
    const fromCursor =
      rank(stream) < rank(after.stream) ? { time: after.time, seq: after.seq } : below(after);
    if (!start || comparePositions(fromCursor, start) < 0) start = fromCursor;
  }
  return start;
}

/**
 * One page of the audit trail, newest first: each stream's matches come from its indexes (or the
 * stream itself without a filter), are merged, and cut at `limit`. Every page starts with a seek
 * to where the cursor points, so page 10,000 costs what page 1 does.
 */
export async function searchAudit(store: Store, q: AuditQuery, maxSteps = MAX_STEPS): Promise<AuditPage> {
  if (!store.seekAudit || !store.readAudit)
    throw new Error(`the ${store.kind} store cannot search the audit trail`);
  const access = { seekAudit: store.seekAudit.bind(store), readAudit: store.readAudit.bind(store) };
  const after = q.cursor === undefined ? null : decodeCursor(q.cursor);
  const wheres: Where[] = AUDIT_FILTERS.flatMap((field) => {
    const value = q[field];
    return value === undefined ? [] : [{ field, value }];
  });
  const chunk = Math.min(1000, q.limit + 1);
  // each stream its own budget: one that matches little cannot starve the others of steps
  const sources = (q.stream ? [q.stream] : AUDIT_STREAMS).map(
    (s) =>
      new StreamMatches(
        access,
        s,
        wheres,
        startOf(s, q, after),
        q.from,
        chunk,
        new Budget(Math.max(maxSteps, chunk + 2)),
      ),
  );
  const heads: (Item | null)[] = [];
  for (const s of sources) heads.push(await s.next());
  const stalled = () => sources.some((s, i) => !heads[i] && !s.done);
  const items: AuditEvent[] = [];
  let last: Item | null = null;
  while (items.length < q.limit && !stalled()) {
    let pick = -1;
    heads.forEach((h, i) => {
      if (h && (pick < 0 || newer(h, heads[pick]!))) pick = i;
    });
    if (pick < 0) break;
    const item = heads[pick]!;
    last = item;
    heads[pick] = await sources[pick]!.next();
    if (matches(item.event, q)) items.push(item.event);
  }
  if (stalled()) {
    // out of steps: the next page starts at the newest place not yet settled, in every stream
    // (everything above it was returned or ruled out, so each page gets further)
    const open = sources.flatMap((s, i): AuditPosition[] =>
      heads[i] ? [heads[i]!] : s.done ? [] : [s.bound ?? { time: MAX_SEQ, seq: MAX_SEQ }],
    );
    const top = open.reduce((a, b) => (comparePositions(a, b) >= 0 ? a : b));
    return { items, next: encodeCursor({ time: top.time, seq: top.seq, stream: '*' }) };
  }
  const more = heads.some((h) => h !== null);
  return { items, next: more && last ? encodeCursor(last) : null };
}
