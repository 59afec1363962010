import { readFileSync, statSync } from 'node:fs';
import { importYubikeys, type YubikeyImportReport } from '../../admin/index.ts';
import { parseCsv } from '../../directory/csv.ts';
import { TesseraError } from '../../model/index.ts';
import { print, withServices } from '../context.ts';
import { CLI_IMPORT_MAX_BYTES, CLI_IMPORT_MAX_ROWS } from './user-import.ts';

export const YUBIKEY_IMPORT_USAGE =
  '       tessera token import-yubikey FILE.csv (--user-column N | --users MAP.csv) [--dry-run]\n';

/** `MAP.csv`: one `serial-or-public-id,username` per line (a header line is taken as a mapping too, harmlessly). */
function readUserMap(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const row of parseCsv(readFileSync(file, 'utf8'))) {
    if ('problem' in row) throw new TesseraError('BAD_REQUEST', `${file} line ${row.line}: ${row.problem}`);
    const [key, user] = row.fields.map((f) => f.trim());
    if (key && user) out[key] = user;
  }
  return out;
}

function printReport(r: YubikeyImportReport): void {
  for (const row of r.rows) {
    print(
      [row.line, row.action, row.kind ?? '-', row.username ?? '-', row.serial ?? '', row.reason ?? '']
        .join('\t')
        .trimEnd(),
    );
  }
  print(`created ${r.created}, skipped ${r.skipped}${r.dryRun ? ' (dry run: nothing changed)' : ''}`);
}

/** `tessera token import-yubikey FILE`; exit 3 when rows were skipped, 2 for a usage error. */
export async function importYubikeyFile(
  file: string,
  opts: { dryRun: boolean; userColumn?: string | undefined; users?: string | undefined },
): Promise<number> {
  const userColumn = opts.userColumn === undefined ? undefined : Number(opts.userColumn);
  if (
    (userColumn === undefined) === (opts.users === undefined) ||
    (userColumn !== undefined && !(userColumn >= 1))
  ) {
    process.stderr.write(`usage:\n${YUBIKEY_IMPORT_USAGE}`);
    return 2;
  }
  const size = statSync(file).size;
  if (size > CLI_IMPORT_MAX_BYTES)
    throw new TesseraError(
      'PAYLOAD_TOO_LARGE',
      `${file} is ${size} bytes; at most ${CLI_IMPORT_MAX_BYTES} at once`,
    );
  const text = readFileSync(file, 'utf8');
  const users = opts.users === undefined ? undefined : readUserMap(opts.users);
  const report = await withServices((_s, admin) =>
    importYubikeys(admin, text, {
      dryRun: opts.dryRun,
      maxRows: CLI_IMPORT_MAX_ROWS,
      ...(userColumn !== undefined ? { userColumn } : {}),
      ...(users ? { users } : {}),
    }),
  );
  printReport(report);
  return report.skipped > 0 ? 3 : 0;
}
