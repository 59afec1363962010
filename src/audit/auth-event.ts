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
 */
export function authEvent(d: AuthDecision): AuditEvent {
  const at = d.user.lastIndexOf('@');
  const realm = at > 0 && at < d.user.length - 1 ? d.user.slice(at + 1) : undefined;
  const detail: Record<string, string | number | boolean> = {
    clientName: d.client.name,
    latencyMs: Math.round(d.latencyMs * 1000) / 1000,
    ...(d.node ? { node: d.node } : {}),
    ...(d.method ? { method: d.method } : {}),
    ...(realm ? { realm } : {}),
  };
  return {
    time: d.time,
    type: 'validate',
    actor: `client:${d.client.id}`,
    username: d.user,
    result: d.result,
    reason: d.reason,
    ...(d.serial ? { serial: d.serial } : {}),
    ...(d.sourceIp ? { sourceIp: d.sourceIp } : {}),
    ...(d.nasIdentifier ? { nasIdentifier: d.nasIdentifier } : {}),
    ...(d.nasIpAddress ? { nasIpAddress: d.nasIpAddress } : {}),
    detail,
  };
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
