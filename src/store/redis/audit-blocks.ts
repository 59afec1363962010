import { comparePositions, MAX_SEQ } from '../audit-index.ts';
import type { AuditIndexField, AuditPosition } from '../types.ts';

/**
 * The block index of the Redis store. The low-cardinality indexes (client, result, reason, node)
 * would get one sorted-set member per entry, though a batch's entries mostly share every one of
 * those values: that was most of redis-server's cost of an append. Instead one member, a block,
 * holds every position of one index's share of an append (up to BLOCK_CAP of them, all within
 * BLOCK_SPAN_MS of the newest):
 *
 *   "<15-digit time>.<16-digit sequence>"                    the newest position alone
 *   "<15-digit time>.<16-digit sequence>:<dt>.<ds>,..."      and the others, each as its time and
 *                                                            sequence below the newest, newest first
 *                                                            (ds < 0: appended later, timed earlier)
 *
 * So a per-entry member (the `user` index, and every member written before blocks) is a block of
 * one, and a block sorts where its newest member would: ZREVRANGEBYLEX still seeks to it. Blocks
 * of one index overlap in time (each node appends its own), but a block holding a position at or
 * below a cursor has its newest within BLOCK_SPAN_MS above it, so a seek starts that far above
 * and merges (seekBlocks). Retention drops the blocks at or below its cut and rewrites the few that
 * straddle it (cut_blocks in audit-scripts.ts).
 */
export const AUDIT_BLOCK_FIELDS: readonly AuditIndexField[] = ['client', 'result', 'reason', 'node'];

/** The most positions one block holds: a seek's read of a block stays small. */
export const BLOCK_CAP = 128;
/**
 * How far below its newest position a block reaches, in ms: what a seek reads above its cursor.
 * A flush (every AUDIT_FLUSH_MS, src/audit/sink.ts) is mostly one block per index; an older straggler
 * starts a block of its own.
 */
export const BLOCK_SPAN_MS = 250;

/** The largest time a position can carry in an index member. */
export const TIME_CAP = 10 ** 15 - 1;

const pad = (n: number, width: number) => String(Math.max(0, Math.trunc(n))).padStart(width, '0');
export const timeText = (time: number) => pad(time, 15);
export const seqText = (seq: number) => pad(Math.min(seq, MAX_SEQ), 16);
/** A position as an index member: "<15-digit time>.<16-digit sequence>". */
export const indexMember = (p: AuditPosition) => `${timeText(p.time)}.${seqText(p.seq)}`;

const isBlockField = new Set<string>(AUDIT_BLOCK_FIELDS);
export const isBlockIndexed = (field: AuditIndexField) => isBlockField.has(field);

/**
 * One index's entries of an append as blocks: `times` are the batch's entry times, `entries` the
 * 1-based numbers (in append order, so in sequence order) of the entries the index holds. → for
 * each block its newest entry's number and the body after the ':' ('' for a block of one). The
 * append script knows the sequences; the distances below the newest are the same either way.
 */
export function blocksOf(times: readonly number[], entries: readonly number[]): [number, string][] {
  let order = entries;
  for (let i = 1; i < entries.length; i++)
    if (times[entries[i]! - 1]! < times[entries[i - 1]! - 1]!) {
      order = [...entries].sort((a, b) => times[a - 1]! - times[b - 1]! || a - b);
      break;
    }
  const out: [number, string][] = [];
  let newest = 0;
  let newestTime = 0;
  let body = '';
  let size = 0;
  for (let i = order.length - 1; i >= 0; i--) {
    const e = order[i]!;
    const t = times[e - 1]!;
    if (size > 0 && size < BLOCK_CAP && newestTime - t <= BLOCK_SPAN_MS) {
      body += `${size > 1 ? ',' : ''}${newestTime - t}.${newest - e}`;
      size++;
      continue;
    }
    if (size > 0) out.push([newest, body]);
    newest = e;
    newestTime = t;
    body = '';
    size = 1;
  }
  if (size > 0) out.push([newest, body]);
  return out;
}

/** The newest position of an index member (a block or a single position). */
function newestOf(m: string): AuditPosition {
  return { time: Number(m.slice(0, 15)), seq: Number(m.slice(16, 32)) };
}

/** Every position an index member holds, newest first. */
export function positionsOf(m: string): AuditPosition[] {
  const top = newestOf(m);
  const out = [top];
  if (m.length <= 33) return out;
  for (const piece of m.slice(33).split(',')) {
    const dot = piece.indexOf('.');
    out.push({ time: top.time - Number(piece.slice(0, dot)), seq: top.seq - Number(piece.slice(dot + 1)) });
  }
  return out;
}

/**
 * ZREVRANGEBYLEX on one index: `count` members from `max` down to `min` (lex bounds). */
export type LexRead = (max: string, min: string, count: number) => Promise<string[]>;

/**
 * The `limit` newest positions of a block index at or below `top` and at or after `from`, newest
 * first: the same answer a per-entry index gives. Reads the blocks from BLOCK_SPAN_MS above `top`
 * down, a growing chunk a round trip; a position is settled once the next block's newest is below
 * it (no block read later can hold anything above its own newest).
 */
export async function seekBlocks(
  read: LexRead,
  top: AuditPosition | undefined,
  from: number | undefined,
  limit: number,
): Promise<AuditPosition[]> {
  const out: AuditPosition[] = [];
  if (limit <= 0) return out;
  // '/' sorts right after '.': "(<time>/" takes every member of that millisecond and below
  let max =
    top === undefined || top.time + BLOCK_SPAN_MS > TIME_CAP
      ? '+'
      : `(${timeText(top.time + BLOCK_SPAN_MS)}/`;
  const min = from === undefined ? '-' : `[${timeText(from)}`;
  let pending: AuditPosition[] = [];
  let last: AuditPosition | null = null;
  /** Moves the pending positions above `bound` (all of them at null) out; true once the page is full. */
  const settle = (bound: AuditPosition | null): boolean => {
    let i = 0;
    for (; i < pending.length && (bound === null || comparePositions(pending[i]!, bound) > 0); i++) {
      const p = pending[i]!;
      // a position in a block and again on its own (an index rebuilt over blocks) counts once
      if (last === null || comparePositions(p, last) !== 0) out.push(p);
      last = p;
      if (out.length >= limit) return true;
    }
    pending = pending.slice(i);
    return false;
  };
  for (let count = Math.min(64, 4 + Math.ceil(limit / 32)); ; count = Math.min(count * 2, 512)) {
    const members = await read(max, min, count);
    for (const m of members) {
      if (settle(newestOf(m))) return out;
      let added = false;
      for (const p of positionsOf(m))
        if ((top === undefined || comparePositions(p, top) <= 0) && (from === undefined || p.time >= from)) {
          pending.push(p);
          added = true;
        }
      if (added) pending.sort((a, b) => comparePositions(b, a));
    }
    if (members.length < count) {
      settle(null);
      return out;
    }
    max = `(${members[members.length - 1]}`;
  }
}
