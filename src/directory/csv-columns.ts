import { TesseraError } from '../model/index.ts';

/** What a column can hold. A row carries a hardware token when it has a serial and a secret. */
export const IMPORT_FIELDS = [
  'username',
  'displayName',
  'email',
  'phone',
  'group',
  'serial',
  'secret',
  'type',
  'digits',
  'algorithm',
  'period',
  'description',
] as const;
export type ImportField = (typeof IMPORT_FIELDS)[number];
export type ColumnMapping = Partial<Record<ImportField, string>>;

/** Header names each field is recognised by, compared without case, spaces, "-" or "_". */
const ALIASES: Record<ImportField, string[]> = {
  username: [
    'username',
    'user',
    'login',
    'loginname',
    'samaccountname',
    'uid',
    'userid',
    'userprincipalname',
    'upn',
    'account',
    'accountname',
  ],
  displayName: ['displayname', 'name', 'fullname', 'cn', 'commonname'],
  email: ['mail', 'email', 'emailaddress'],
  phone: [
    'mobile',
    'phone',
    'mobilephone',
    'telephone',
    'telephonenumber',
    'phonenumber',
    'cell',
    'cellphone',
  ],
  group: ['group', 'groups', 'memberof'],
  serial: ['serial', 'serialnumber', 'tokenserial'],
  secret: ['secret', 'seed', 'tokenseed', 'tokensecret', 'otpsecret', 'secretbase32'],
  type: ['type', 'tokentype', 'otptype'],
  digits: ['digits', 'otplength', 'otpdigits'],
  algorithm: ['algorithm', 'algo', 'hash', 'hashalgorithm'],
  period: ['period', 'timestep', 'step'],
  description: ['description', 'tokendescription', 'note'],
};

const norm = (header: string) => header.toLowerCase().replace(/[\s_-]+/g, '');

/** The import cannot read the file as a whole (the header): IMPORT_INVALID. */
export function invalid(message: string): TesseraError {
  return new TesseraError('IMPORT_INVALID', message);
}

/** The header row → which column holds which field. Throws IMPORT_INVALID for an unusable header. */
export function mapColumns(
  header: string[],
  explicit: ColumnMapping = {},
): { index: Partial<Record<ImportField, number>>; columns: ColumnMapping; ignored: string[] } {
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(norm(h)) && h.trim() !== '') throw invalid(`the header names "${h}" twice`);
    seen.add(norm(h));
  }
  const index: Partial<Record<ImportField, number>> = {};
  const used = new Set<number>();
  for (const [field, name] of Object.entries(explicit) as [ImportField, string][]) {
    if (!IMPORT_FIELDS.includes(field)) throw invalid(`mapping names an unknown field "${field}"`);
    const at = header.findIndex((h) => h.trim() === name || norm(h) === norm(name));
    if (at < 0) throw invalid(`mapping: no column "${name}" in the header`);
    index[field] = at;
    used.add(at);
  }
  for (const field of IMPORT_FIELDS) {
    if (index[field] !== undefined) continue;
    const hits = header
      .map((h, i) => ({ i, n: norm(h) }))
      .filter(({ i, n }) => !used.has(i) && ALIASES[field].includes(n));
    if (hits.length > 1) {
      throw invalid(
        `columns ${hits.map(({ i }) => `"${header[i]}"`).join(' and ')} both look like ${field}; map one explicitly`,
      );
    }
    if (hits[0]) {
      index[field] = hits[0].i;
      used.add(hits[0].i);
    }
  }
  if (index.username === undefined) {
    throw invalid('no username column (username, login, sAMAccountName, uid, ... or a mapping)');
  }
  if ((index.serial === undefined) !== (index.secret === undefined)) {
    throw invalid('token columns come in pairs: a serial column needs a secret column and the reverse');
  }
  const columns: ColumnMapping = {};
  for (const [f, i] of Object.entries(index) as [ImportField, number][]) columns[f] = header[i]!;
  const ignored = header.filter((h, i) => !used.has(i) && h.trim() !== '');
  return { index, columns, ignored };
}
