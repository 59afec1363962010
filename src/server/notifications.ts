// Which node events become mails: a user's lock, a failover, a failed directory sync. Each is
// queued (src/notify), so nothing here ever waits for SMTP.
import { Counter } from 'prom-client';
import type { AttemptPolicy, PushChallenge, UserAuthState } from '../model/index.ts';
import type { Notifier } from '../notify/index.ts';
import type { RedemptionHooks } from '../portal/index.ts';
import type { AttemptDecision, Store } from '../store/index.ts';
import type { Metrics } from './metrics.ts';

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

/**
 * The store the validator uses, with its lock decisions watched: when a failure locks a user, the
 * user hears of it once per lock. Everything else passes through untouched.
 */
export function watchLocks(store: Store, notifier: Notifier): Store {
  const told = new Map<string, number>();
  /** Mails the user once per lock, when a counted failure just locked the account. */
  const tell = (username: string, state: UserAuthState, now: number): void => {
    if (
      state.lockedUntil > now &&
      told.get(username) !== state.lockedUntil &&
      notifier.enabled('account-locked')
    ) {
      told.set(username, state.lockedUntil);
      if (told.size > 10_000) told.delete(told.keys().next().value as string);
      void store
        .getUser(username)
        .then((user) => {
          if (user?.email)
            notifier.send('account-locked', user.email, {
              name: user.displayName ?? user.username,
              until: when(state.lockedUntil),
            });
        })
        .catch(() => {});
    }
  };
  const commitFailure: Store['commitFailure'] = async (username, now, policy) => {
    const state = await store.commitFailure(username, now, policy);
    tell(username, state, now);
    return state;
  };
  // The single-step code checks count and lock without commitFailure: the embedded store's
  // decideAttempt (it evaluates inside) and the Redis store's settleAttempt (it takes a verdict).
  const watched = <T>(
    step:
      | ((username: string, now: number, policy: AttemptPolicy, x: T) => Promise<AttemptDecision>)
      | undefined,
  ) =>
    step &&
    (async (username: string, now: number, policy: AttemptPolicy, x: T): Promise<AttemptDecision> => {
      const decision = await step.call(store, username, now, policy, x);
      if (decision.kind === 'failed' || decision.kind === 'stale') tell(username, decision.state, now);
      return decision;
    });
  const decideAttempt = watched(store.decideAttempt);
  const settleAttempt = watched(store.settleAttempt);
  // Bound once per method, not on every call of it (the validator calls through here per login).
  const bound = new Map<PropertyKey, { fn: unknown; as: unknown }>();
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'commitFailure') return commitFailure;
      if (prop === 'decideAttempt') return decideAttempt;
      if (prop === 'settleAttempt') return settleAttempt;
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const known = bound.get(prop);
      if (known && known.fn === value) return known.as;
      const as = value.bind(target);
      bound.set(prop, { fn: value, as });
      return as;
    },
  });
}

export function failoverMail(
  notifier: Notifier,
  node: string,
  e: { change: string; from: string; to: string; master: string },
): void {
  notifier.toAdmins('admin-failover', {
    node,
    change: e.change,
    when: when(Date.now()),
    detail: `from ${e.from} to ${e.to}; the master is now ${e.master}`,
  });
}

/** A sync the admin face reported as failed (its `admin.failed` audit event). */
export function directorySyncMail(
  notifier: Notifier,
  route: string | undefined,
  reason: string | undefined,
): void {
  if (!route?.includes('/directory/') || !route.endsWith('/sync')) return;
  notifier.toAdmins('admin-directory-sync', {
    source: route,
    problem: reason ?? 'the sync failed',
    when: when(Date.now()),
  });
}

/** A recovery or temporary code was spent: counted, and the user hears of a recovery code. */
export function oneTimeCodeHooks(store: Store, notifier: Notifier, metrics: Metrics): RedemptionHooks {
  const used = new Counter({
    name: 'tessera_one_time_codes_used_total',
    help: 'Recovery and temporary codes accepted',
    labelNames: ['kind'] as const,
    registers: [metrics.registry],
  });
  return {
    onRecoveryUsed(username, left) {
      used.inc({ kind: 'recovery' });
      void store
        .getUser(username)
        .then((user) =>
          notifier.send('recovery-code-used', user?.email, {
            name: user?.displayName ?? username,
            left,
            when: when(Date.now()),
          }),
        )
        .catch(() => {});
    },
    onTemporaryUsed() {
      used.inc({ kind: 'temporary' });
    },
  };
}

/** A push denied on the phone: someone may hold the user's first factor. */
export function pushDeniedMail(notifier: Notifier, push: PushChallenge): void {
  notifier.toAdmins('admin-push-denied', {
    user: push.username,
    system: push.context.system,
    client: push.context.client,
    sourceIp: push.context.sourceIp ?? 'unknown',
    when: when(push.answeredAt ?? Date.now()),
  });
}
