import { randomBytes } from 'node:crypto';
import { parseCsv } from '../directory/csv.ts';
import { requireCanonicalUsername, TesseraError, type Token } from '../model/index.ts';
import { base32Encode } from '../otp/index.ts';
import { type AdminContext, auditChange } from './context.ts';
import { enrolToken } from './tokens.ts';
import { normalPublicId, yubikeyToken } from './yubikey-tokens.ts';

/**
 * The import of the YubiKey Personalization Tool's log (configuration_log.csv). It writes one row
 * per programmed key in one of two layouts, without a header:
 *
 * - "Traditional": `event, time, slot, public id, private id, secret key, current access code, new
 *   access code, OATH fixed-ModHex flags (3), HOTP digits, moving factor, 5 flags`, where event is
 *   "Yubico OTP" or "OATH-HOTP"; a "LOGGING START, time" line starts every session.
 * - "Yubico": `serial, public id, private id, secret key, access code, time,` for Yubico OTP, and
 *   `serial, token id, moving factor, secret key, access code, time,` for OATH-HOTP (its key is
 *   20 bytes, the AES key 16).
 *
 * The file names no user: each key's user comes from a column the admin added (`userColumn`), or
 * from `users`, keyed by the key's serial number, public id or OATH token id.
 */
export interface YubikeyImportOptions {
  dryRun?: boolean;
  /** 1-based column holding the username, added to the tool's rows; it is not part of the layout. */
  userColumn?: number;
  /** Serial number, public id (ModHex) or OATH token id → username. */
  users?: Record<string, string>;
  maxRows?: number;
}

export interface YubikeyImportRow {
  line: number;
  action: 'created' | 'skipped';
  kind?: 'yubikey' | 'hotp';
  username?: string;
  serial?: string;
  /** Why a row was skipped, or what to know about a created one. Never a secret. */
  reason?: string;
}

export interface YubikeyImportReport {
  dryRun: boolean;
  created: number;
  skipped: number;
  rows: YubikeyImportRow[];
}

type ParsedKey =
  | { kind: 'yubikey'; names: string[]; publicId: string; privateId: string; aesKey: string }
  | {
      kind: 'hotp';
      names: string[];
      tokenId: string;
      secret: string;
      digits: 6 | 8;
      counter: number;
      serial?: string;
    };

const HEX = (bytes: number) => new RegExp(`^[0-9a-fA-F]{${2 * bytes}}$`);

/** One row in one of the tool's layouts; a string says why it is none of them. */
function readRow(fields: string[]): ParsedKey | string | null {
  const f = fields.map((x) => x.trim());
  const event = f[0] ?? '';
  if (event === 'LOGGING START') return null;
  if (event === 'Yubico OTP' || event === 'OATH-HOTP') {
    if (f.length < 18) return 'a Traditional row has 18 columns';
    // The local time may itself hold the separator: the 16 fields after it are counted from the end.
    const [, publicId, privateId, secret, , , , , , digits, movingFactor] = f.slice(f.length - 16);
    if (event === 'Yubico OTP')
      return {
        kind: 'yubikey',
        names: [publicId ?? ''],
        publicId: publicId ?? '',
        privateId: privateId ?? '',
        aesKey: secret ?? '',
      };
    return hotpRow(publicId ?? '', secret ?? '', digits === '8' ? 8 : 6, movingFactor ?? '0');
  }
  if (/^[A-Za-z]/.test(event) && f.length > 1 && !/^\d*$/.test(event))
    return `"${event.slice(0, 40)}" rows are not imported (only Yubico OTP and OATH-HOTP)`;
  if (f.length >= 6 && /^\d*$/.test(event)) {
    const [serial, id, third, secret] = f as [string, string, string, string];
    if (HEX(16).test(secret) && HEX(6).test(third))
      return { kind: 'yubikey', names: [serial, id], publicId: id, privateId: third, aesKey: secret };
    if (HEX(20).test(secret) && /^\d+$/.test(third)) {
      const row = hotpRow(id, secret, 6, third);
      return typeof row === 'string'
        ? row
        : { ...row, names: [serial, ...row.names], ...(serial ? { serial } : {}) };
    }
    return 'neither a Yubico OTP nor an OATH-HOTP row of the Yubico layout';
  }
  return 'not a row of the personalisation tool';
}

function hotpRow(tokenId: string, secret: string, digits: 6 | 8, movingFactor: string): ParsedKey | string {
  if (!HEX(20).test(secret)) return 'an OATH-HOTP secret is 20 bytes in hex';
  const counter = Number(movingFactor || '0');
  if (!Number.isSafeInteger(counter) || counter < 0) return 'the moving factor is not a whole number';
  return { kind: 'hotp', names: tokenId ? [tokenId] : [], tokenId, secret, digits, counter };
}

function userOf(
  key: ParsedKey,
  column: string | undefined,
  users: Record<string, string>,
): string | undefined {
  if (column !== undefined) return column || undefined;
  // own entries only: a row naming "constructor" must not find Object's
  const own = (k: string) => (Object.hasOwn(users, k) ? users[k] : undefined);
  for (const name of key.names) {
    const found = name && (own(name) ?? own(name.toLowerCase()) ?? own(normalPublicId(name) ?? ''));
    if (found) return found;
  }
  return undefined;
}

/** The serial a row's token gets: YubiKeys by public id, OATH slots by serial number or token id. */
function serialOf(key: ParsedKey): string | undefined {
  if (key.kind === 'yubikey') {
    const id = normalPublicId(key.publicId);
    return id ? `YK${id}` : undefined;
  }
  if (key.serial) return `YKH${key.serial}`;
  const id = key.tokenId.replace(/[^A-Za-z0-9]/g, '');
  // A slot programmed without a token id has no name of its own in the file.
  return `YKH${id || randomBytes(5).toString('hex').toUpperCase()}`;
}

/**
 * Imports the keys of a personalisation-tool log: every row is reported (created, or skipped with
 * why), seeds are sealed on arrival and never returned. A dry run checks the same and writes nothing.
 */
export async function importYubikeys(
  ctx: AdminContext,
  text: string,
  opts: YubikeyImportOptions = {},
): Promise<YubikeyImportReport> {
  const dryRun = opts.dryRun ?? false;
  const users = opts.users ?? {};
  const rows: YubikeyImportRow[] = [];
  const seen = new Set<string>();
  let count = 0;
  for (const row of parseCsv(text, ',')) {
    if (++count > (opts.maxRows ?? 10_000))
      throw new TesseraError('PAYLOAD_TOO_LARGE', `more than ${opts.maxRows ?? 10_000} rows; split the file`);
    if ('problem' in row) {
      rows.push({ line: row.line, action: 'skipped', reason: row.problem });
      continue;
    }
    const fields = [...row.fields];
    let column: string | undefined;
    if (opts.userColumn !== undefined) column = fields.splice(opts.userColumn - 1, 1)[0]?.trim() ?? '';
    const key = readRow(fields);
    if (key === null) continue;
    if (typeof key === 'string') {
      rows.push({ line: row.line, action: 'skipped', reason: key });
      continue;
    }
    rows.push(await importOne(ctx, row.line, key, userOf(key, column, users), seen, dryRun));
  }
  const created = rows.filter((r) => r.action === 'created').length;
  return { dryRun, created, skipped: rows.length - created, rows };
}

async function importOne(
  ctx: AdminContext,
  line: number,
  key: ParsedKey,
  name: string | undefined,
  seen: Set<string>,
  dryRun: boolean,
): Promise<YubikeyImportRow> {
  const base = { line, kind: key.kind };
  const serial = serialOf(key);
  const skip = (reason: string, more: Partial<YubikeyImportRow> = {}): YubikeyImportRow => ({
    ...base,
    action: 'skipped',
    reason,
    ...(serial ? { serial } : {}),
    ...more,
  });
  if (!name) return skip('no user for this key: add a user column, or map its serial number or public id');
  if (!serial) return skip('the public id is not ModHex (or hex) of 1 to 16 bytes');
  let username: string;
  try {
    username = requireCanonicalUsername(name);
  } catch {
    return skip('the username is not valid');
  }
  const done = { ...base, action: 'created' as const, username, serial };
  try {
    if (seen.has(serial) || (await ctx.store.getToken(serial)))
      return skip(`token "${serial}" exists already`, { username });
    seen.add(serial);
    if (!(await ctx.store.getUser(username))) return skip(`user "${username}" does not exist`, { username });
    const note =
      key.kind === 'hotp' && key.tokenId
        ? { reason: 'the key types its OATH token identifier before each code; switch the identifier off' }
        : {};
    if (key.kind === 'yubikey') {
      const token: Token = yubikeyToken(ctx, username, key, Date.now());
      if (dryRun) return done;
      const first = (await ctx.store.listTokens(username)).length === 0;
      await ctx.store.putToken({ ...token, isDefault: first });
      auditChange(ctx, 'token.import', { username, serial }, null, token);
      return done;
    }
    const secret = Buffer.from(key.secret, 'hex');
    if (secret.every((b) => b === secret[0]))
      return skip('the secret is one byte repeated; program the key with a random one', { username });
    if (!dryRun)
      await enrolToken(ctx, username, {
        type: 'hotp',
        secret: base32Encode(secret),
        digits: key.digits,
        counter: key.counter,
        serial,
        description: 'YubiKey OATH-HOTP',
      });
    return { ...done, ...note };
  } catch (err) {
    if (err instanceof TesseraError) return skip(err.message, { username });
    throw err;
  }
}
