import QRCode from 'qrcode';
import { enrolCodeToken, enrolToken, publicToken, resyncToken } from '../../admin/index.ts';
import { requireCanonicalUsername } from '../../model/index.ts';
import type { OtpAlgorithm } from '../../otp/index.ts';
import { parse, print, withServices } from '../context.ts';
import { importYubikeyFile, YUBIKEY_IMPORT_USAGE } from './yubikey-import.ts';

const USAGE =
  'usage: tessera token add USERNAME [--type totp|hotp] [--algorithm SHA1|SHA256|SHA512] [--digits 6|8] [--period 30|60] [--no-qr]\n' +
  '       tessera token add USERNAME --type email|sms [--destination ADDRESS|PHONE]\n' +
  '       tessera token list USERNAME | resync USERNAME SERIAL CODE1 CODE2\n' +
  YUBIKEY_IMPORT_USAGE;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    type: { type: 'string', default: 'totp' },
    algorithm: { type: 'string', default: 'SHA1' },
    digits: { type: 'string', default: '6' },
    period: { type: 'string', default: '30' },
    'no-qr': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    'user-column': { type: 'string' },
    users: { type: 'string' },
    destination: { type: 'string' },
  });
  const [action, username, serial, code1, code2] = positionals;
  if (action === 'add' && username && (values.type === 'email' || values.type === 'sms')) {
    const type = values.type;
    const destination = values.destination;
    const token = await withServices((_s, admin) =>
      enrolCodeToken(admin, username, { type, ...(destination !== undefined ? { destination } : {}) }),
    );
    print(`token ${token.serial} (${type}) enrolled for ${token.username}`);
    return 0;
  }
  if (action === 'add' && username) {
    const type = values.type;
    const algorithm = values.algorithm as OtpAlgorithm;
    const digits = Number(values.digits);
    const period = Number(values.period);
    if (
      (type !== 'totp' && type !== 'hotp') ||
      !['SHA1', 'SHA256', 'SHA512'].includes(algorithm) ||
      (digits !== 6 && digits !== 8) ||
      (period !== 30 && period !== 60)
    ) {
      process.stderr.write(USAGE);
      return 2;
    }
    const { token, otpauthUri } = await withServices((_s, admin) =>
      enrolToken(admin, username, { type, algorithm, digits, period }),
    );
    print(`token ${token.serial} enrolled for ${token.username}`);
    print(otpauthUri);
    if (!values['no-qr']) print(await QRCode.toString(otpauthUri, { type: 'terminal', small: true }));
    return 0;
  }
  if (action === 'import-yubikey' && username) {
    return importYubikeyFile(username, {
      dryRun: values['dry-run'] === true,
      userColumn: values['user-column'],
      users: values.users,
    });
  }
  if (action === 'list' && username) {
    const name = requireCanonicalUsername(username);
    const tokens = await withServices((s) => s.store.listTokens(name));
    for (const t of tokens) print(JSON.stringify(publicToken(t)));
    return 0;
  }
  if (action === 'resync' && username && serial && code1 && code2) {
    await withServices((_s, admin) => resyncToken(admin, username, serial, code1, code2));
    print(`token ${serial} resynchronised`);
    return 0;
  }
  process.stderr.write(USAGE);
  return 2;
}
