import type { AuditEvent, Client } from '../model/index.ts';

/** What the validator knows about one decision, for the authentication log. */
export interface AuthDecision {
  time: number;
  /** The node that decided. */
  node?: string;
  client: Pick<Client, 'id' | 'name'>;
  user: string;
  result: string;
  reason: string;
  serial?: string;
  /** The token type that matched (totp, hotp, ...). */
  method?: string;
  sourceIp?: string;
  nasIdentifier?: string;
  nasIpAddress?: string;
  latencyMs: number;
}

/**
 * The authentication log entry of one decision. The realm is the part of a `user@realm` name, so
 * a proxy's logins can be told apart when the NAS sends neither identifier nor address.
 *
 * This runs on every login: the entry is built field by field (no spread of optional parts, each
 * of which cost an object and a copy), always in the same field order, which is the order the
 * stores keep it in.
 */
export function authEvent(d: AuthDecision): AuditEvent {
  const detail: Record<string, string | number | boolean> = {
    clientName: d.client.name,
    latencyMs: Math.round(d.latencyMs * 1000) / 1000,
  };
  if (d.node) detail.node = d.node;
  if (d.method) detail.method = d.method;
  const at = d.user.lastIndexOf('@');
  if (at > 0 && at < d.user.length - 1) detail.realm = d.user.slice(at + 1);
  const e: AuditEvent = {
    time: d.time,
    type: 'validate',
    actor: `client:${d.client.id}`,
    username: d.user,
    result: d.result,
    reason: d.reason,
  };
  if (d.serial) e.serial = d.serial;
  if (d.sourceIp) e.sourceIp = d.sourceIp;
  if (d.nasIdentifier) e.nasIdentifier = d.nasIdentifier;
  if (d.nasIpAddress) e.nasIpAddress = d.nasIpAddress;
  e.detail = detail;
  return e;
}

/**
 * Whether a decision goes to the authentication log. A refusal is always kept: it is what an
 * investigation looks for. Anything else (accepts, challenges) is kept at the client's rate, or
 * the node's default rate: 1 keeps all, 0 none (a client whose logins are counted elsewhere).
 */
export function keepAuthEvent(
  result: string,
  client: Pick<Client, 'auditSuccessRate'>,
  defaultRate: number,
  random: () => number = Math.random,
): boolean {
  if (result === 'reject') return true;
  const rate = client.auditSuccessRate ?? defaultRate;
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return random() < rate;
}
