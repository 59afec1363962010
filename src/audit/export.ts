import type { AuditEvent } from '../model/index.ts';
import type { AuditStream, Store } from '../store/index.ts';
import { searchAudit } from './search.ts';
import { auditStreamOf } from './streams.ts';

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportQuery {
  stream?: AuditStream;
  from?: number;
  to?: number;
}

/** One page read at a time: memory stays bounded by the page, whatever the trail holds. */
const PAGE = 1000;

export const CSV_COLUMNS = [
  'time',
  'stream',
  'type',
  'actor',
  'username',
  'serial',
  'result',
  'reason',
  'sourceIp',
  'nasIdentifier',
  'nasIpAddress',
  'detail',
] as const;

/**
 * One CSV field. A value a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first:
 * a username is chosen by whoever types it at a login prompt) is made text with a leading `'`.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(e: AuditEvent): string {
  const cells: Record<(typeof CSV_COLUMNS)[number], string> = {
    time: new Date(e.time).toISOString(),
    stream: auditStreamOf(e),
    type: e.type,
    actor: e.actor,
    username: e.username ?? '',
    serial: e.serial ?? '',
    result: e.result ?? '',
    reason: e.reason ?? '',
    sourceIp: e.sourceIp ?? '',
    nasIdentifier: e.nasIdentifier ?? '',
    nasIpAddress: e.nasIpAddress ?? '',
    detail: e.detail ? JSON.stringify(e.detail) : '',
  };
  return `${CSV_COLUMNS.map((c) => csvField(cells[c])).join(',')}\r\n`;
}

/**
 * The audit trail as CSV (RFC 4180, a header line first) or JSON lines, newest first, produced a
 * page at a time as the reader asks for it: a consumer that reads slowly holds the producer, so an
 * export of millions of entries never sits in memory.
 */
export async function* exportAudit(
  store: Store,
  q: ExportQuery,
  format: ExportFormat,
): AsyncGenerator<string> {
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
  let cursor: string | undefined;
  do {
    const page = await searchAudit(store, { ...q, limit: PAGE, ...(cursor ? { cursor } : {}) });
    if (page.items.length > 0)
      yield page.items
        .map((e) =>
          format === 'csv' ? csvLine(e) : `${JSON.stringify({ stream: auditStreamOf(e), ...e })}\n`,
        )
        .join('');
    cursor = page.next ?? undefined;
  } while (cursor);
}
