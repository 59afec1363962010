/**
 * Holding a request through a failover. While Sentinel replaces a dead master, a store step that
 * fails because the master is unreachable is tried again until the new master answers, for at
 * most the hold time; an error that says the command itself is wrong is never held.
 */

/** Redis answers that mean "the master is moving" rather than "this command is wrong". */
const MOVING = /^(READONLY|LOADING|MASTERDOWN|NOREPLICAS|TRYAGAIN)\b/;

/** True when trying again on the (next) master can succeed: a lost connection, or a moving master. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  // Redis's own answers (ReplyError) are final, except the ones a failover produces.
  if (err.name === 'ReplyError') return MOVING.test(err.message);
  // Our own refusals (a slave refusing a write, no replica's ack) are decisions, not outages.
  if (err.name === 'TesseraError') return false;
  return true;
}

/** How often a held step looks again (and asks for the node's role again). */
export const SETTLE_MS = 50;
