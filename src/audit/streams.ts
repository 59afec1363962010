import type { AuditEvent } from '../model/index.ts';
import type { AuditStream } from '../store/index.ts';

/** Event types a node reports about itself (not a person's action). */
const NODE_EVENT_PREFIXES = [
  'node.',
  'failover',
  'snapshot.',
  'backup.',
  'replication.',
  'directory.schedule.',
];

/**
 * Which stream an event belongs to. Validate decisions (any face, including refused RADIUS bodies)
 * go to `auth`, which outside traffic fills; node events to `event`; everything else is an admin or
 * CLI change and goes to `admin`, so that no volume of logins can push it out.
 */
export function auditStreamOf(event: Pick<AuditEvent, 'type'>): AuditStream {
  if (event.type === 'validate') return 'auth';
  if (NODE_EVENT_PREFIXES.some((p) => event.type.startsWith(p))) return 'event';
  return 'admin';
}
