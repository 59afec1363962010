import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditEvent } from '../model/index.ts';
import type { AuditSealer, AuditStream, ChainedAuditEvent } from '../store/index.ts';
import type { AuditKeys } from './keys.ts';

/** The streams that are hash-chained and signed; `auth` is volume, not evidence of a change. */
export const CHAINED_STREAMS: readonly AuditStream[] = ['admin', 'event'];

/** The `prev` of a stream's first entry. */
export const GENESIS = '0'.repeat(64);

/** JSON with object keys sorted, so a hash does not depend on how a store kept the key order. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The event without its chain fields. */
export function bareEvent(e: ChainedAuditEvent): AuditEvent {
  const { chain: _chain, ...event } = e;
  return event;
}

/** What an entry's signature covers and its hash is taken of: stream, place, link, key and event. */
function sealedText(stream: AuditStream, e: ChainedAuditEvent): string {
  const c = e.chain;
  if (!c) throw new Error('entry has no chain fields');
  return canonical({ stream, seq: c.seq, prev: c.prev, at: c.at, kid: c.kid, event: bareEvent(e) });
}

/** The entry's hash: the next entry's `prev`. */
export function entryHash(stream: AuditStream, e: ChainedAuditEvent): string {
  return createHash('sha256').update(sealedText(stream, e)).digest('hex');
}

function mac(key: Buffer, hash: string): string {
  return createHmac('sha256', key).update(hash).digest('base64url');
}

/** Signs batches with the audit key (HMAC-SHA256 over the entry's hash). */
export class ChainSealer implements AuditSealer {
  readonly streams = CHAINED_STREAMS;

  constructor(private readonly keys: AuditKeys) {}

  seal(stream: AuditStream, head: ChainedAuditEvent | null, events: AuditEvent[]): ChainedAuditEvent[] {
    let seq = head?.chain?.seq ?? 0;
    let prev = head?.chain ? entryHash(stream, head) : GENESIS;
    let at = head?.chain?.at ?? 0;
    const { id, key } = this.keys.current;
    return events.map((event) => {
      // entries sort by `at`: never before the previous one, so storage order is chain order even
      // when two nodes' batches interleave
      at = Math.max(at, Math.trunc(event.time));
      seq++;
      const entry: ChainedAuditEvent = { ...bareEvent(event), chain: { seq, prev, at, kid: id, sig: '' } };
      const hash = entryHash(stream, entry);
      entry.chain!.sig = mac(key, hash);
      prev = hash;
      return entry;
    });
  }
}

/** The outcome of a verify: `ok`, or the first entry (by sequence number) that fails and why. */
export type VerifyResult =
  | {
      ok: true;
      stream: AuditStream;
      checked: number;
      first: number | null;
      last: number | null;
      /** Entries before the first signed one, written before the chain existed: not covered. */
      unsigned?: number;
    }
  | { ok: false; stream: AuditStream; checked: number; seq: number; problem: string };

export interface ChainInput {
  stream: AuditStream;
  /** What the first entry must follow: the entry just before the range, or retention's anchor. */
  before: ChainedAuditEvent | null;
  entries: { position: number; event: ChainedAuditEvent }[];
  /** The store's copy of its last entry; compared when the range runs to the end. */
  head: ChainedAuditEvent | null;
}

/** Checks signatures, sequence and links in storage order; names the first broken or missing entry. */
export function verifyChain(input: ChainInput, keys: AuditKeys): VerifyResult {
  const { stream } = input;
  let expectSeq = 1;
  let expectPrev = GENESIS;
  if (input.before) {
    const b = checkEntry(stream, input.before, keys);
    if (b)
      return { ok: false, stream, checked: 0, seq: input.before.chain?.seq ?? 0, problem: `anchor: ${b}` };
    expectSeq = input.before.chain!.seq + 1;
    expectPrev = entryHash(stream, input.before);
  }
  const stored = new Set(input.entries.map((e) => e.event.chain?.seq));
  let checked = 0;
  let unsigned = 0;
  let first: number | null = null;
  let last: number | null = null;
  for (const { position, event } of input.entries) {
    const c = event.chain;
    const fail = (seq: number, problem: string): VerifyResult => ({
      ok: false,
      stream,
      checked,
      seq,
      problem,
    });
    // events stored by a version without the chain come first; after a signed entry none may
    if (!c && first === null && !input.before) {
      unsigned++;
      continue;
    }
    if (!c) return fail(expectSeq, 'entry has no chain fields (not signed)');
    if (c.seq > expectSeq && stored.has(expectSeq))
      return fail(expectSeq, `out of order: entry ${expectSeq} is stored after entry ${c.seq}`);
    if (c.seq > expectSeq) {
      const missing = c.seq - 1 === expectSeq ? `${expectSeq}` : `${expectSeq}..${c.seq - 1}`;
      return fail(expectSeq, `missing: entry ${missing} is not in the store (found ${c.seq} next)`);
    }
    if (c.seq < expectSeq) return fail(c.seq, `out of order: found after entry ${expectSeq - 1}`);
    const problem = checkEntry(stream, event, keys);
    if (problem) return fail(c.seq, problem);
    if (c.prev !== expectPrev) return fail(c.seq, 'does not follow the previous entry (hash link broken)');
    if (position !== c.at)
      return fail(c.seq, 'moved: its place in the store is not the one it was signed at');
    first ??= c.seq;
    last = c.seq;
    expectPrev = entryHash(stream, event);
    expectSeq = c.seq + 1;
    checked++;
  }
  if (input.head?.chain) {
    const h = input.head.chain;
    if (h.seq >= expectSeq)
      return {
        ok: false,
        stream,
        checked,
        seq: expectSeq,
        problem: `missing: entries ${expectSeq}..${h.seq} were appended but are not in the store`,
      };
  }
  return { ok: true, stream, checked, first, last, ...(unsigned > 0 ? { unsigned } : {}) };
}

/** Why an entry's signature fails, or null when it holds. */
function checkEntry(stream: AuditStream, e: ChainedAuditEvent, keys: AuditKeys): string | null {
  const c = e.chain;
  if (!c) return 'entry has no chain fields (not signed)';
  const key = keys.byId(c.kid);
  if (!key) return `signed with an unknown key "${c.kid}"`;
  const want = Buffer.from(mac(key, entryHash(stream, e)));
  const got = Buffer.from(String(c.sig));
  if (want.length !== got.length || !timingSafeEqual(want, got))
    return 'signature does not match (entry edited)';
  return null;
}
