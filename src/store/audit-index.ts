import type { AuditEvent } from '../model/index.ts';
import type { AuditDailyCount, AuditIndexField, AuditPosition } from './types.ts';

export const AUDIT_INDEX_FIELDS: readonly AuditIndexField[] = ['user', 'client', 'result', 'reason', 'node'];

/** Above every sequence either store hands out: a seek "at or below (t, MAX_SEQ)" takes all of t. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/**
 * The values an event is found by. `client` is the relying system (the client id of a validate
 * decision's actor), `node` the node that decided or reported. The Redis scripts derive the same
 * values in Lua (AUDIT_INDEX_VALUES in redis/audit-scripts.ts); a test holds the two together.
 */
export function auditIndexValues(e: AuditEvent): [AuditIndexField, string][] {
  // per stored entry: plain tests, no closure (one per call under the transpiler's name helper)
  const out: [AuditIndexField, string][] = [];
  if (isValue(e.username)) out.push(['user', e.username]);
  if (typeof e.actor === 'string' && e.actor.startsWith('client:') && e.actor.length > 7)
    out.push(['client', e.actor.slice(7)]);
  if (isValue(e.result)) out.push(['result', e.result]);
  if (isValue(e.reason)) out.push(['reason', e.reason]);
  const node = e.detail?.node;
  if (isValue(node)) out.push(['node', node]);
  return out;
}

function isValue(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/** The position just below `p`: a seek from it skips `p` itself. */
export function below(p: AuditPosition): AuditPosition {
  return p.seq > 0 ? { time: p.time, seq: p.seq - 1 } : { time: p.time - 1, seq: MAX_SEQ };
}

export function comparePositions(a: AuditPosition, b: AuditPosition): number {
  return a.time - b.time || a.seq - b.seq;
}

/** The UTC day of a time, `YYYY-MM-DD`. */
export function dayOf(time: number): string {
  return new Date(Math.max(0, time)).toISOString().slice(0, 10);
}

/**
 * The authentication entries of a batch counted by day, client and result: what the daily counts
 * add (see Store.auditDailyCounts).
 */
export function dailyCounts(events: AuditEvent[]): AuditDailyCount[] {
  const counts = new Map<string, AuditDailyCount>();
  // a batch spans a day or two: the day's name is formatted once per day, not once per entry
  let dayStart = 0;
  let dayEnd = -1;
  let day = '';
  // and its entries mostly share client and result with the one before: no key is built for those
  let last: AuditDailyCount | undefined;
  for (const e of events) {
    if (!(e.time >= dayStart && e.time < dayEnd)) {
      day = dayOf(e.time);
      dayStart = Date.parse(day);
      dayEnd = dayStart + 86_400_000;
    }
    const actor = e.actor;
    const result = e.result ?? '';
    const isClient = actor?.startsWith('client:') === true;
    if (
      last &&
      last.day === day &&
      last.result === result &&
      (isClient ? actor.length === last.client.length + 7 && actor.endsWith(last.client) : last.client === '')
    ) {
      last.count++;
      continue;
    }
    const client = isClient ? actor.slice(7) : '';
    const key = `${day}\u0000${client}\u0000${result}`;
    last = counts.get(key);
    if (last) last.count++;
    else {
      last = { day, client, result, count: 1 };
      counts.set(key, last);
    }
  }
  return [...counts.values()];
}
