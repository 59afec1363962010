import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DAILY_COLUMNS,
  devicesByRegistration,
  devicesCsv,
  LOCKED_COLUMNS,
  lockedUsers,
  loginsPerDay,
  pagesCsv,
  type ReportPage,
  reportCsv,
  reportSpan,
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
      const asked = { from: timeOf(values.from), to: timeOf(values.to) };
      if (!Object.values(asked).every((t) => t === undefined || Number.isFinite(t)))
        return fail('--from and --to must be times');
      const span = reportSpan(asked, Date.now(), { from: '--from', to: '--to' });
      if (typeof span === 'string') return fail(span);
      const rows = await loginsPerDay(store, span.from, span.to);
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
