import type { AdminContext } from '../admin/index.ts';
import type { Notifier } from '../notify/index.ts';

/**
 * What the self-service operations need: the admin operations' context (store, seed keys,
 * settings, an audit trail with its actor), the mailer, and where the portal is reached.
 */
export interface SelfServiceContext extends AdminContext {
  notifier: Pick<Notifier, 'send'>;
  /** The public URL of /portal/, ending in `/`. */
  portalUrl: string;
  invitationTtlMs: number;
  now?: () => number;
  /** Who acts, as the audit trail names it (`admin:<key id>`, `portal:<user>`, `cli`). */
  actor: string;
}

export const nowOf = (ctx: Pick<SelfServiceContext, 'now'>): number => (ctx.now ?? Date.now)();

/** A date for people in mails: `2026-11-30 14:05 UTC`. */
export function humanTime(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}
