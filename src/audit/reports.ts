import type { Token, TokenType } from '../model/index.ts';
import { type AuthView, dayOf, type Store } from '../store/index.ts';
import { csvField } from './export.ts';

const DAY_MS = 86_400_000;

/** One relying system's day: logins (accepts), failures (refusals), challenges, every decision. */
export interface DailyLogins {
  day: string;
  client: string;
  clientName: string | null;
  logins: number;
  failures: number;
  challenges: number;
  total: number;
}

/** At most this many days in one per-day report. */
export const MAX_REPORT_DAYS = 731;

/**
 * The span of a per-day report, as every face asks for it: `to` defaults to now, `from` to 29 days
 * before `to`. → the span, or why it is refused, naming the parameter as the caller spells it
 * (`names`: querystring/from, --from, ...).
 */
export function reportSpan(
  asked: { from?: number | undefined; to?: number | undefined },
  now: number,
  names: { from: string; to: string },
): { from: number; to: number } | string {
  const to = asked.to ?? now;
  const from = asked.from ?? to - 29 * DAY_MS;
  if (from > to) return `${names.from} is after ${names.to}`;
  if (to - from > MAX_REPORT_DAYS * DAY_MS)
    return `${names.from}: a report spans at most ${MAX_REPORT_DAYS} days`;
  return { from, to };
}

/**
 * Logins and failures per day (UTC) per relying system, from the counts the store keeps as the
 * authentication log is appended: a report over a year reads a few hundred small records, never
 * the log. It counts what the log kept (accepts a client samples are counted at that rate).
 */
export async function loginsPerDay(store: Store, from: number, to: number): Promise<DailyLogins[]> {
  if (!store.auditDailyCounts) throw new Error(`the ${store.kind} store keeps no daily counts`);
  const names = new Map((await store.listClients()).map((c) => [c.id, c.name]));
  const rows = new Map<string, DailyLogins>();
  for (const c of await store.auditDailyCounts(dayOf(from), dayOf(to))) {
    const key = `${c.day}\u0000${c.client}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        day: c.day,
        client: c.client,
        clientName: names.get(c.client) ?? null,
        logins: 0,
        failures: 0,
        challenges: 0,
        total: 0,
      };
      rows.set(key, row);
    }
    if (c.result === 'accept') row.logins += c.count;
    else if (c.result === 'reject') row.failures += c.count;
    else if (c.result === 'challenge') row.challenges += c.count;
    row.total += c.count;
  }
  return [...rows.values()].sort((a, b) =>
    a.day < b.day ? -1 : a.day > b.day ? 1 : a.client < b.client ? -1 : 1,
  );
}

/** How a device gets its secret: `offline` types are provisioned once (a QR code, a seed file); `online` ones register with the server (push). */
export type Registration = 'offline' | 'online';
const ONLINE_TYPES: readonly string[] = ['push'];
export const registrationOf = (type: TokenType | string): Registration =>
  ONLINE_TYPES.includes(type) ? 'online' : 'offline';

export interface UserListItem {
  username: string;
  group: string;
  enabled: boolean;
}

export interface LockedUser extends UserListItem {
  lockedUntil: number;
  failures: number;
}

export interface UnusedToken {
  serial: string;
  username: string;
  type: string;
  status: string;
  createdAt: number;
  /** When it was last used, where the store knows (TOTP: the step accepted); null: never used. */
  lastUsedAt: number | null;
  neverUsed: boolean;
}

export interface ReportPage<T> {
  items: T[];
  /** The username to go on after; null at the end. */
  next: string | null;
}

/** Users looked at for one page of a user report: a page is bounded however few users match. */
export const USERS_PER_PAGE = 2_000;

/**
 * When a token was last used: a TOTP token knows the step it last accepted. An HOTP token knows
 * only that its counter moved; its user's last success bounds it (no token of that user was used
 * after it), so "unused for N days" never names a token that was used within them.
 */
export function lastUse(token: Token, view: AuthView): { at: number | null; never: boolean } {
  const state = view.tokenStates.get(token.serial);
  if (token.type === 'totp') {
    const step = state?.lastUsedStep ?? -1;
    return step >= 0 ? { at: step * token.period * 1000, never: false } : { at: null, never: true };
  }
  const used = (state?.counter ?? 0) > 0 && view.userState.lastSuccess > 0;
  return used ? { at: view.userState.lastSuccess, never: false } : { at: null, never: true };
}

type Pick_<T> = (view: AuthView) => T[];

/** Pages through the users (in name order) and collects what `pick` finds in each user's view. */
async function userPage<T>(
  store: Store,
  pick: Pick_<T>,
  limit: number,
  after?: string,
): Promise<ReportPage<T>> {
  const items: T[] = [];
  let cursor = after;
  let seen = 0;
  while (items.length < limit && seen < USERS_PER_PAGE) {
    const page = await store.listUsers({
      limit: Math.min(200, USERS_PER_PAGE - seen),
      ...(cursor ? { after: cursor } : {}),
    });
    const views = await Promise.all(page.items.map((u) => store.loadAuthView(u.username)));
    for (const [i, user] of page.items.entries()) {
      seen++;
      cursor = user.username;
      const view = views[i];
      if (view) items.push(...pick(view));
      if (items.length >= limit) {
        const more = i < page.items.length - 1 || page.next !== undefined;
        return { items: items.slice(0, limit), next: more ? cursor : null };
      }
    }
    if (page.next === undefined) return { items, next: null };
  }
  return { items, next: cursor ?? null };
}

const listed = (v: AuthView): UserListItem => ({
  username: v.user.username,
  group: v.user.group,
  enabled: v.user.enabled,
});

/** Users with no usable device: no token, or none active. */
export function usersWithoutDevice(store: Store, limit: number, after?: string) {
  return userPage(
    store,
    (v) => (v.tokens.some((t) => t.status === 'active') ? [] : [listed(v)]),
    limit,
    after,
  );
}

/** Users locked now (by failures). */
export function lockedUsers(store: Store, now: number, limit: number, after?: string) {
  return userPage<LockedUser>(
    store,
    (v) =>
      v.userState.lockedUntil > now
        ? [{ ...listed(v), lockedUntil: v.userState.lockedUntil, failures: v.userState.failures }]
        : [],
    limit,
    after,
  );
}

/** Tokens never used, or (with `days`) not used for that many days. */
export function unusedTokens(
  store: Store,
  now: number,
  days: number | undefined,
  limit: number,
  after?: string,
) {
  const cutoff = days === undefined ? null : now - days * DAY_MS;
  return userPage<UnusedToken>(
    store,
    (v) =>
      v.tokens.flatMap((t) => {
        const use = lastUse(t, v);
        const unused = use.never || (cutoff !== null && use.at !== null && use.at < cutoff);
        if (!unused) return [];
        return [
          {
            serial: t.serial,
            username: t.username,
            type: t.type,
            status: t.status,
            createdAt: t.createdAt,
            lastUsedAt: use.at,
            neverUsed: use.never,
          },
        ];
      }),
    limit,
    after,
  );
}

export interface DeviceSummary {
  total: number;
  byRegistration: Record<Registration, number>;
  byType: Record<string, number>;
  byStatus: Record<string, number>;
}

/** Every device counted by registration type (offline, online), token type and status: one pass over the users. */
export async function devicesByRegistration(store: Store): Promise<DeviceSummary> {
  const out: DeviceSummary = {
    total: 0,
    byRegistration: { offline: 0, online: 0 },
    byType: {},
    byStatus: {},
  };
  let after: string | undefined;
  do {
    const page = await store.listUsers({ limit: 500, ...(after ? { after } : {}) });
    const lists = await Promise.all(page.items.map((u) => store.listTokens(u.username)));
    for (const t of lists.flat()) {
      out.total++;
      out.byRegistration[registrationOf(t.type)]++;
      out.byType[t.type] = (out.byType[t.type] ?? 0) + 1;
      out.byStatus[t.status] = (out.byStatus[t.status] ?? 0) + 1;
    }
    after = page.next === undefined ? undefined : page.items[page.items.length - 1]?.username;
  } while (after);
  return out;
}

/** A report's rows as CSV lines (a header first when asked), quoted as the audit export quotes. */
export function reportCsv<T extends object>(
  columns: readonly (keyof T & string)[],
  rows: T[],
  header = true,
): string {
  const cell = (v: unknown) => csvField(v === null || v === undefined ? '' : String(v));
  const lines = rows.map((r) => `${columns.map((c) => cell(r[c])).join(',')}\r\n`);
  return (header ? `${columns.join(',')}\r\n` : '') + lines.join('');
}

export const DAILY_COLUMNS = [
  'day',
  'client',
  'clientName',
  'logins',
  'failures',
  'challenges',
  'total',
] as const;
export const USER_COLUMNS = ['username', 'group', 'enabled'] as const;
export const LOCKED_COLUMNS = ['username', 'group', 'enabled', 'lockedUntil', 'failures'] as const;
export const TOKEN_COLUMNS = [
  'serial',
  'username',
  'type',
  'status',
  'createdAt',
  'lastUsedAt',
  'neverUsed',
] as const;

/** The device summary as CSV rows: one per token type with its registration, then the totals. */
export function devicesCsv(d: DeviceSummary): string {
  const rows = Object.entries(d.byType).map(([type, count]) => ({
    type,
    registration: registrationOf(type),
    count,
  }));
  return reportCsv(['type', 'registration', 'count'], rows);
}

/** Every page of a user report, as CSV, one page at a time (bounded memory). */
export async function* pagesCsv<T extends object>(
  columns: readonly (keyof T & string)[],
  page: (after?: string) => Promise<ReportPage<T>>,
  after?: string,
): AsyncGenerator<string> {
  yield `${columns.join(',')}\r\n`;
  let cursor = after;
  do {
    const p = await page(cursor);
    if (p.items.length) yield reportCsv(columns, p.items, false);
    cursor = p.next ?? undefined;
  } while (cursor);
}
