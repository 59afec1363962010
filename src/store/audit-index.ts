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
  const out: [AuditIndexField, string][] = [];
  const add = (field: AuditIndexField, v: unknown) => {
    if (typeof v === 'string' && v.length > 0) out.push([field, v]);
  };
  add('user', e.username);
  if (typeof e.actor === 'string' && e.actor.startsWith('client:')) add('client', e.actor.slice(7));
  add('result', e.result);
  add('reason', e.reason);
  add('node', e.detail?.node);
  return out;
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
  for (const e of events) {
    const client = e.actor?.startsWith('client:') ? e.actor.slice(7) : '';
    if (!(e.time >= dayStart && e.time < dayEnd)) {
      day = dayOf(e.time);
      dayStart = Date.parse(day);
      dayEnd = dayStart + 86_400_000;
    }
    const result = e.result ?? '';
    const key = `${day}\u0000${client}\u0000${result}`;
    const c = counts.get(key);
    if (c) c.count++;
    else counts.set(key, { day, client, result, count: 1 });
  }
  return [...counts.values()];
}
