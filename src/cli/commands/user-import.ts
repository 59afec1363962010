import { readFileSync, statSync } from 'node:fs';
import { IMPORT_FIELDS, type ImportField, type ImportReport, importUsersCsv } from '../../directory/index.ts';
import { TesseraError } from '../../model/index.ts';
import { print, withServices } from '../context.ts';

/** The CLI reads the file whole: past this size, split it. */
export const CLI_IMPORT_MAX_BYTES = 64 * 1024 * 1024;
export const CLI_IMPORT_MAX_ROWS = 500_000;

/** `--map username=Kennung,email=Adresse` → a column mapping. */
export function parseMapping(text: string | undefined): Partial<Record<ImportField, string>> {
  const out: Partial<Record<ImportField, string>> = {};
  if (!text) return out;
  for (const part of text.split(',')) {
    const at = part.indexOf('=');
    const field = part.slice(0, at).trim() as ImportField;
    const header = part.slice(at + 1).trim();
    if (at < 1 || !header || !IMPORT_FIELDS.includes(field)) {
      throw new TesseraError(
        'BAD_REQUEST',
        `--map: "${part}" is not FIELD=HEADER (fields: ${IMPORT_FIELDS.join(', ')})`,
      );
    }
    out[field] = header;
  }
  return out;
}

export function printReport(r: ImportReport): void {
  for (const row of r.rows) {
    print(
      [row.line, row.action, row.username ?? '-', row.serial ?? '', row.reason ?? ''].join('\t').trimEnd(),
    );
  }
  if (r.ignoredColumns.length > 0) print(`ignored columns: ${r.ignoredColumns.join(', ')}`);
  print(
    `created ${r.created}, updated ${r.updated}, skipped ${r.skipped}${r.dryRun ? ' (dry run: nothing changed)' : ''}`,
  );
}

/** `tessera user import FILE [--dry-run] [--no-update] [--map F=H,...]`; exit 3 when rows were skipped. */
export async function importFile(
  file: string,
  opts: { dryRun: boolean; update: boolean; map?: string | undefined },
): Promise<number> {
  const mapping = parseMapping(opts.map);
  const size = statSync(file).size;
  if (size > CLI_IMPORT_MAX_BYTES) {
    throw new TesseraError(
      'PAYLOAD_TOO_LARGE',
      `${file} is ${size} bytes; at most ${CLI_IMPORT_MAX_BYTES} at once`,
    );
  }
  const text = readFileSync(file, 'utf8');
  const report = await withServices((_s, admin) =>
    importUsersCsv(admin, text, {
      dryRun: opts.dryRun,
      update: opts.update,
      mapping,
      maxRows: CLI_IMPORT_MAX_ROWS,
    }),
  );
  printReport(report);
  return report.skipped > 0 ? 3 : 0;
}
