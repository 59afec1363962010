import type { AdminContext } from '../admin/context.ts';
import { defaultMfaRequired } from '../auth/index.ts';
import { canonicalizeUsername, DEFAULT_GROUP, TesseraError, type Token, type User } from '../model/index.ts';
import { base32Decode, type OtpAlgorithm } from '../otp/index.ts';
import { type CsvRow, parseCsv } from './csv.ts';
import { type ColumnMapping, type ImportField, invalid, mapColumns } from './csv-columns.ts';

export interface ImportOptions {
  dryRun?: boolean;
  /** Explicit columns (field → header name); the rest are matched by name. */
  mapping?: ColumnMapping;
  /** Existing users get the file's non-empty values (default); false skips them. */
  update?: boolean;
  /** Rows beyond this refuse the whole file before anything is written. */
  maxRows?: number;
}

export type RowAction = 'created' | 'updated' | 'skipped';
export interface RowResult {
  line: number;
  username?: string;
  action: RowAction;
  /** Why a row was skipped; never a cell's value. */
  reason?: string;
  serial?: string;
}

export interface ImportReport {
  dryRun: boolean;
  /** field → the header it was read from. */
  columns: ColumnMapping;
  /** Headers that map to no field. */
  ignoredColumns: string[];
  created: number;
  updated: number;
  skipped: number;
  rows: RowResult[];
}

const EMAIL = /^[^@\s]+@[^@\s]+$/;
const PHONE = /^[+0-9 ()-]+$/;
const SERIAL = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_CELL = 1024;

/** One row, checked; a token's seed is decoded here and sealed only at the write. */
interface PlannedRow {
  line: number;
  username: string;
  fields: { displayName?: string; email?: string; phone?: string; groups?: string[] };
  token?: {
    serial: string;
    secret: Uint8Array;
    type: 'totp' | 'hotp';
    digits: 6 | 8;
    algorithm: OtpAlgorithm;
    period: 30 | 60;
    description?: string;
  };
}

type Checked =
  | { ok: true; row: PlannedRow }
  | { ok: false; username?: string; serial?: string; reason: string };

function checkRow(
  line: number,
  cells: string[],
  index: Partial<Record<ImportField, number>>,
  width: number,
): Checked {
  if (cells.length !== width)
    return { ok: false, reason: `has ${cells.length} fields, the header has ${width}` };
  if (cells.some((c) => c.length > MAX_CELL))
    return { ok: false, reason: `a field is longer than ${MAX_CELL} characters` };
  const cell = (f: ImportField): string | undefined => {
    const i = index[f];
    const v = i === undefined ? undefined : cells[i]?.trim();
    return v ? v : undefined;
  };
  const rawName = cell('username');
  if (!rawName) return { ok: false, reason: 'no username' };
  const canonical = canonicalizeUsername(rawName);
  if (!canonical.ok) return { ok: false, reason: `username: ${canonical.problem}` };
  const username = canonical.name;
  const serialCell = cell('serial');
  const no = (reason: string): Checked => ({
    ok: false,
    username,
    reason,
    ...(serialCell && SERIAL.test(serialCell) ? { serial: serialCell } : {}),
  });
  const fields: PlannedRow['fields'] = {};
  const displayName = cell('displayName');
  if (displayName) {
    if (displayName.length > 256) return no('displayName is longer than 256 characters');
    fields.displayName = displayName;
  }
  const email = cell('email');
  if (email) {
    if (!EMAIL.test(email) || email.length > 254) return no('email is not an e-mail address');
    fields.email = email;
  }
  const phone = cell('phone');
  if (phone) {
    if (!PHONE.test(phone) || phone.length > 32)
      return no('phone holds characters other than + 0-9 space ( ) -');
    fields.phone = phone;
  }
  const group = cell('group');
  if (group)
    fields.groups = group
      .split(/[;|]/)
      .map((g) => g.trim().toLowerCase())
      .filter(Boolean);
  const row: PlannedRow = { line, username, fields };
  const serial = cell('serial');
  const secretText = cell('secret');
  if (serial || secretText) {
    if (!serial) return no('a token secret without a serial');
    if (!secretText) return no('a token serial without a secret');
    if (!SERIAL.test(serial)) return no('serial must be 1-64 letters, digits, "_", "." or "-"');
    const secret = base32Decode(secretText.replace(/\s+/g, ''));
    if (!secret) return no('secret is not valid base32');
    if (secret.length < 10 || secret.length > 128) return no('secret must be 10 to 128 bytes');
    if (secret.every((b) => b === secret[0])) return no('secret is one byte repeated (a placeholder?)');
    const type = (cell('type') ?? 'totp').toLowerCase();
    if (type !== 'totp' && type !== 'hotp') return no('type must be totp or hotp');
    const digits = Number(cell('digits') ?? '6');
    if (digits !== 6 && digits !== 8) return no('digits must be 6 or 8');
    const algorithm = (cell('algorithm') ?? 'SHA1').toUpperCase().replace('-', '');
    if (algorithm !== 'SHA1' && algorithm !== 'SHA256' && algorithm !== 'SHA512')
      return no('algorithm must be SHA1, SHA256 or SHA512');
    const period = Number(cell('period') ?? '30');
    if (period !== 30 && period !== 60) return no('period must be 30 or 60');
    const description = cell('description');
    row.token = {
      serial,
      secret,
      type,
      digits,
      algorithm,
      period,
      ...(description ? { description: description.slice(0, 256) } : {}),
    };
  }
  return { ok: true, row };
}

function changed(current: User, next: User): boolean {
  return (['displayName', 'email', 'phone', 'group'] as const).some((k) => current[k] !== next[k]);
}

/**
 * Reads a CSV of users (and optionally one hardware token per user) into the store. Every row
 * stands alone: a bad row is skipped with its reason and the others go on; a user and its token
 * are written in one store step (writeUserWithTokens), so a row is all written or not at all.
 * The header is checked first: a file that cannot be read as a whole is one IMPORT_INVALID error.
 */
export async function importUsersCsv(
  ctx: AdminContext,
  text: string,
  opts: ImportOptions = {},
): Promise<ImportReport> {
  const dryRun = opts.dryRun ?? false;
  const rows = parseCsv(text);
  const first = rows.next();
  if (first.done) throw invalid('the file is empty: it needs a header row');
  if ('problem' in first.value) throw invalid(`the header row cannot be read: ${first.value.problem}`);
  const header = first.value.fields;
  if (header.some((h) => h.length > 256)) throw invalid('a column name is longer than 256 characters');
  const { index, columns, ignored } = mapColumns(header, opts.mapping);
  const maxRows = opts.maxRows ?? Number.POSITIVE_INFINITY;
  // the rows are read before any write, so a file over the limit changes nothing; reading stops
  // at the first row past the limit
  const body: CsvRow[] = [];
  for (const r of rows) {
    if (body.length === maxRows) {
      throw new TesseraError('PAYLOAD_TOO_LARGE', `the file has more than ${maxRows} rows; split it`);
    }
    body.push(r);
  }
  const settings = await ctx.settings();
  const groups = new Set((await ctx.store.listGroups()).map((g) => g.name));
  groups.add(DEFAULT_GROUP);
  const report: ImportReport = {
    dryRun,
    columns,
    ignoredColumns: ignored,
    created: 0,
    updated: 0,
    skipped: 0,
    rows: [],
  };
  const firstLine = new Map<string, number>();
  const serialLine = new Map<string, number>();
  const skip = (line: number, reason: string, username?: string, serial?: string): void => {
    report.skipped++;
    report.rows.push({
      line,
      action: 'skipped',
      reason,
      ...(username ? { username } : {}),
      ...(serial ? { serial } : {}),
    });
  };
  for (const r of body) {
    if ('problem' in r) {
      skip(r.line, r.problem);
      continue;
    }
    const checked = checkRow(r.line, r.fields, index, header.length);
    if (!checked.ok) {
      skip(r.line, checked.reason, checked.username, checked.serial);
      continue;
    }
    const row = checked.row;
    const earlier = firstLine.get(row.username);
    if (earlier !== undefined) {
      skip(row.line, `username already on line ${earlier}`, row.username);
      continue;
    }
    firstLine.set(row.username, row.line);
    if (row.token) {
      const taken = serialLine.get(row.token.serial);
      if (taken !== undefined) {
        skip(row.line, `serial already on line ${taken}`, row.username, row.token.serial);
        continue;
      }
      serialLine.set(row.token.serial, row.line);
    }
    let group: string | undefined;
    if (row.fields.groups?.length) {
      group = row.fields.groups.find((g) => groups.has(g));
      if (!group) {
        skip(row.line, 'no Tessera group by any name in the group column', row.username);
        continue;
      }
    }
    let result: RowResult;
    try {
      result = await writeRow(ctx, row, group, {
        dryRun,
        update: opts.update ?? true,
        mfa: defaultMfaRequired(settings),
      });
    } finally {
      // the clear seed lives no longer than its row (sealed by then, or never written)
      row.token?.secret.fill(0);
    }
    if (result.action === 'skipped') report.skipped++;
    else report[result.action]++;
    report.rows.push(result);
  }
  if (!dryRun) {
    ctx.audit('user.import', {
      result: `created=${report.created} updated=${report.updated} skipped=${report.skipped}`,
    });
  }
  return report;
}

async function writeRow(
  ctx: AdminContext,
  row: PlannedRow,
  group: string | undefined,
  opts: { dryRun: boolean; update: boolean; mfa: boolean },
): Promise<RowResult> {
  const base = { line: row.line, username: row.username, ...(row.token ? { serial: row.token.serial } : {}) };
  const skipped = (reason: string): RowResult => ({ ...base, action: 'skipped', reason });
  const current = await ctx.store.getUser(row.username);
  if (current && !opts.update) return skipped('the user exists (updates are off)');
  if (current?.directory)
    return skipped(`the user belongs to directory source "${current.directory.source}"`);
  if (row.token && (await ctx.store.getToken(row.token.serial)))
    return skipped('a token with this serial exists');
  const now = Date.now();
  const { groups: _groups, ...fields } = row.fields;
  let user: User;
  if (current) {
    user = { ...current, ...fields, ...(group ? { group } : {}), updatedAt: now };
    if (!row.token && !changed(current, user)) return skipped('nothing to change');
  } else {
    user = {
      username: row.username,
      group: group ?? DEFAULT_GROUP,
      enabled: true,
      mfaRequired: opts.mfa,
      methods: {},
      createdAt: now,
      updatedAt: now,
      ...fields,
    };
  }
  const action: RowAction = current ? 'updated' : 'created';
  if (opts.dryRun) return { ...base, action };
  const tokens: Token[] = [];
  if (row.token) {
    const t = row.token;
    const isDefault = current ? (await ctx.store.listTokens(row.username)).length === 0 : true;
    tokens.push({
      serial: t.serial,
      username: row.username,
      type: t.type,
      isDefault,
      status: 'active',
      algorithm: t.algorithm,
      digits: t.digits,
      period: t.period,
      // sealed before it leaves this function; the clear seed is dropped with the row
      secretSealed: ctx.keyring.seal(t.secret, t.serial),
      createdAt: now,
      updatedAt: now,
      ...(t.description ? { description: t.description } : {}),
    });
  }
  const written = await ctx.store.writeUserWithTokens(user, tokens, current ? 'update' : 'create');
  switch (written) {
    case 'ok':
      ctx.audit(current ? 'user.import.update' : 'user.import.create', {
        username: row.username,
        ...(row.token ? { serial: row.token.serial } : {}),
      });
      return { ...base, action };
    case 'serial-taken':
      return skipped('a token with this serial exists');
    case 'user-exists':
      return skipped('the user was created meanwhile by someone else');
    case 'user-missing':
      return skipped('the user was deleted meanwhile by someone else');
  }
}
