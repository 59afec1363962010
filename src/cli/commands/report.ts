import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DAILY_COLUMNS,
  devicesByRegistration,
  devicesCsv,
  LOCKED_COLUMNS,
  lockedUsers,
  loginsPerDay,
  MAX_REPORT_DAYS,
  pagesCsv,
  type ReportPage,
  reportCsv,
  TOKEN_COLUMNS,
  USER_COLUMNS,
  unusedTokens,
  usersWithoutDevice,
} from '../../audit/index.ts';
import type { Store } from '../../store/index.ts';
import { parse, print, withServices } from '../context.ts';

const USAGE =
  'usage: tessera report logins-per-day [--from TIME] [--to TIME] [--format json|csv]\n' +
  '       tessera report users-without-device|locked-users [--format json|csv]\n' +
  '       tessera report unused-tokens [--days N] [--format json|csv]\n' +
  '       tessera report devices [--format json|csv]\n' +
  'TIME: an ISO 8601 time or milliseconds since 1970 (default: the last 30 days)\n';

const DAY_MS = 86_400_000;

function timeOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  return /^\d+$/.test(v) ? Number(v) : Date.parse(v);
}

function fail(message: string): number {
  process.stderr.write(`tessera report: ${message}\n${USAGE}`);
  return 2;
}

/** Every page of a user report: CSV streamed, or JSON rows collected. */
async function all<T extends object>(
  format: string,
  columns: readonly (keyof T & string)[],
  page: (after?: string) => Promise<ReportPage<T>>,
): Promise<void> {
  if (format === 'csv') {
    await pipeline(Readable.from(pagesCsv(columns, page)), process.stdout, { end: false });
    return;
  }
  const rows: T[] = [];
  let after: string | undefined;
  do {
    const p = await page(after);
    rows.push(...p.items);
    after = p.next ?? undefined;
  } while (after);
  print(JSON.stringify(rows, null, 2));
}

/** Reports straight from the store, as an auditor reads them over the API (GET /v1/admin/reports/...). */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    from: { type: 'string' },
    to: { type: 'string' },
    days: { type: 'string' },
    format: { type: 'string' },
  });
  const [name] = positionals;
  const format = values.format ?? 'json';
  if (positionals.length !== 1) return fail('name one report');
  if (format !== 'json' && format !== 'csv') return fail('--format must be json or csv');
  const days = values.days === undefined ? undefined : Number(values.days);
  if (days !== undefined && !(Number.isInteger(days) && days > 0))
    return fail('--days must be a positive integer');
  const runs: Record<string, (store: Store) => Promise<number>> = {
    'logins-per-day': async (store) => {
      const to = timeOf(values.to) ?? Date.now();
      const from = timeOf(values.from) ?? to - 29 * DAY_MS;
      if (!Number.isFinite(from) || !Number.isFinite(to)) return fail('--from and --to must be times');
      if (from > to) return fail('--from is after --to');
      if (to - from > MAX_REPORT_DAYS * DAY_MS) return fail(`a report spans at most ${MAX_REPORT_DAYS} days`);
      const rows = await loginsPerDay(store, from, to);
      if (format === 'csv') process.stdout.write(reportCsv(DAILY_COLUMNS, rows));
      else print(JSON.stringify(rows, null, 2));
      return 0;
    },
    'users-without-device': async (store) => {
      await all(format, USER_COLUMNS, (after) => usersWithoutDevice(store, 1000, after));
      return 0;
    },
    'locked-users': async (store) => {
      await all(format, LOCKED_COLUMNS, (after) => lockedUsers(store, Date.now(), 1000, after));
      return 0;
    },
    'unused-tokens': async (store) => {
      await all(format, TOKEN_COLUMNS, (after) => unusedTokens(store, Date.now(), days, 1000, after));
      return 0;
    },
    devices: async (store) => {
      const d = await devicesByRegistration(store);
      if (format === 'csv') process.stdout.write(devicesCsv(d));
      else print(JSON.stringify(d, null, 2));
      return 0;
    },
  };
  const report = runs[name!];
  if (!report) return fail(`unknown report "${name!.slice(0, 40)}"`);
  return withServices((services) => report(services.store));
}
