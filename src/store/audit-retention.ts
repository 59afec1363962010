import type { AuditEvent } from '../model/index.ts';
import type { AuditRetention, AuditStream, AuditStreamRetention } from './types.ts';

export const AUDIT_STREAMS: readonly AuditStream[] = ['auth', 'admin', 'event'];

const DAY_MS = 86_400_000;

/**
 * The defaults: validate decisions 90 days, the admin trail and node events two years.
 * The authentication log is also bounded in number, because anyone who can reach the validate face
 * adds to it (bench/audit-size.ts prints the bytes a million entries take in each store); the admin
 * trail is never bounded by count, so no amount of login traffic pushes it out.
 */
export const DEFAULT_AUDIT_RETENTION: AuditRetention = {
  auth: { maxAgeMs: 90 * DAY_MS, maxEvents: 2_000_000 },
  admin: { maxAgeMs: 730 * DAY_MS },
  event: { maxAgeMs: 730 * DAY_MS, maxEvents: 100_000 },
};

function checked(stream: AuditStream, r: AuditStreamRetention): AuditStreamRetention {
  if (!Number.isFinite(r.maxAgeMs) || r.maxAgeMs <= 0)
    throw new Error(`audit retention of "${stream}" must be a positive duration`);
  if (r.maxEvents !== undefined && !(Number.isInteger(r.maxEvents) && r.maxEvents > 0))
    throw new Error(`audit maxEvents of "${stream}" must be a positive integer`);
  return r;
}

/** The defaults with the given streams' settings in their place, checked. */
export function auditRetention(over: Partial<AuditRetention> = {}): AuditRetention {
  const out = { ...DEFAULT_AUDIT_RETENTION };
  for (const s of AUDIT_STREAMS) out[s] = checked(s, over[s] ?? DEFAULT_AUDIT_RETENTION[s]);
  return out;
}

/** An event and where it sorts: by time, then by the order it was appended in. */
export interface OrderedAuditEvent {
  time: number;
  order: string;
  event: AuditEvent;
}

/** Merges per-stream lists (each newest first) into one, newest first. */
export function mergeNewestFirst(lists: OrderedAuditEvent[][], limit: number): AuditEvent[] {
  return lists
    .flat()
    .sort((a, b) => b.time - a.time || (a.order < b.order ? 1 : a.order > b.order ? -1 : 0))
    .slice(0, limit)
    .map((x) => x.event);
}
