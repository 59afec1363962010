import { scanAudit } from '../../src/audit/scan.ts';
import type { Store } from '../../src/store/index.ts';

export interface LoginStats {
  /** Hours, oldest first: the hour's start and its count per result. */
  hours: { start: number; values: Record<string, number> }[];
  /** Refusal reasons, most frequent first. */
  reasons: { label: string; value: number }[];
  /** Users refused in the period, newest first: the only ones a lock can have started for (checked apart). */
  lockedCandidates: string[];
  /** How many events were read, and whether the read stopped at its bound. */
  scanned: number;
  truncated: boolean;
}

const HOUR = 3600_000;
/** The dashboard reads at most this many authentication events; more only shortens what it covers. */
const MAX_EVENTS = 200_000;
/** Counts are reused while the log has nothing new, and for this long under steady traffic. */
const CACHE_MS = 5_000;

let cached: { at: number; store: Store; head: string; stats: LoginStats } | null = null;

/** The newest authentication event's place: what the counts were made up to. */
async function headOf(store: Store): Promise<string> {
  for await (const item of scanAudit(store, 'auth', {}, 1)) return `${item.time}:${item.seq}`;
  return '';
}

/**
 * Logins of the last 24 hours from the authentication log, by hour and result, read newest first
 * and lazily (the store keeps the stream in time order). Reused while no login came in since, and
 * for a few seconds under steady traffic: the dashboard is looked at, often, by several people.
 */
export async function loginStats(store: Store, now = Date.now()): Promise<LoginStats> {
  const head = await headOf(store);
  if (cached && cached.store === store && (cached.head === head || now - cached.at < CACHE_MS))
    return cached.stats;
  const firstHour = Math.floor(now / HOUR) * HOUR - 23 * HOUR;
  const hours = Array.from({ length: 24 }, (_, i) => ({
    start: firstHour + i * HOUR,
    values: {} as Record<string, number>,
  }));
  const reasons = new Map<string, number>();
  const locked = new Set<string>();
  let scanned = 0;
  let truncated = false;
  for await (const item of scanAudit(store, 'auth', { from: firstHour })) {
    if (++scanned > MAX_EVENTS) {
      truncated = true;
      break;
    }
    const e = item.event;
    const bucket = hours[Math.floor((item.time - firstHour) / HOUR)];
    const result = e.result ?? 'unknown';
    if (bucket) bucket.values[result] = (bucket.values[result] ?? 0) + 1;
    if (result !== 'accept' && result !== 'challenge' && e.reason)
      reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
    if (result === 'reject' && e.username && locked.size < 200) locked.add(e.username);
  }
  const stats: LoginStats = {
    hours,
    reasons: [...reasons.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([label, value]) => ({ label, value })),
    lockedCandidates: [...locked],
    scanned,
    truncated,
  };
  cached = { at: now, store, head, stats };
  return stats;
}

/** Of the candidates, those locked now, with when the lock ends. */
export async function lockedNow(store: Store, candidates: string[], now = Date.now()) {
  const out: { username: string; lockedUntil: number; failures: number }[] = [];
  for (const username of candidates) {
    const view = await store.loadAuthView(username);
    if (view && view.userState.lockedUntil > now)
      out.push({ username, lockedUntil: view.userState.lockedUntil, failures: view.userState.failures });
  }
  return out;
}

let counted: { at: number; store: Store; count: number } | null = null;

/**
 * The number of users, kept for a while: LMDB counts by walking its index (tens of ms at 100,000
 * users), and a page shows it as an order of magnitude, not an exact tally.
 */
export async function userCount(store: Store, now = Date.now()): Promise<number> {
  if (counted && counted.store === store && now - counted.at < 10_000) return counted.count;
  counted = { at: now, store, count: await store.countUsers() };
  return counted.count;
}
