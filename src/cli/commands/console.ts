import {
  createConsoleAccount,
  generatePassword,
  listConsoleAccounts,
  resetConsoleTotp,
} from '../../console/index.ts';
import { ADMIN_ROLES, type AdminRole } from '../../model/index.ts';
import { parse, print, readSecretFile, withServices } from '../context.ts';

const USAGE =
  'usage: tessera console add-admin --username NAME [--role superadmin|helpdesk|auditor]\n' +
  '                                 [--password-file F | --directory-source SOURCE]\n' +
  '       tessera console list | reset-totp NAME\n';

function usage(problem?: string): number {
  process.stderr.write(`${problem ? `tessera console: ${problem}\n` : ''}${USAGE}`);
  return 2;
}

/**
 * Console accounts from the shell, for the first superadmin above all: it signs in at /ui/ with
 * the password printed here (once) and sets up its TOTP code at that first sign-in.
 */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    username: { type: 'string' },
    role: { type: 'string' },
    'password-file': { type: 'string' },
    'directory-source': { type: 'string' },
  });
  const [action, name] = positionals;
  switch (action) {
    case 'add-admin': {
      if (!values.username) return usage();
      const role = ADMIN_ROLES.find((r) => r === (values.role ?? 'superadmin'));
      if (!role) return usage(`--role must be one of ${ADMIN_ROLES.join(', ')}`);
      const source = values['directory-source'];
      const fromFile = values['password-file'];
      if (source && fromFile) return usage('give --password-file or --directory-source, not both');
      const password = source ? undefined : fromFile ? readSecretFile(fromFile) : generatePassword();
      const username = values.username;
      const account = await withServices((_s, admin) =>
        createConsoleAccount(admin, {
          username,
          role: role as AdminRole,
          ...(password !== undefined ? { password } : {}),
          ...(source ? { directorySource: source } : {}),
        }),
      );
      process.stderr.write(
        `console account ${account.username} (${account.role}) created; it sets up its TOTP code at its first sign-in at /ui/\n`,
      );
      // stdout carries a generated password alone, for scripts; shown this once.
      if (password !== undefined && !fromFile) print(password);
      return 0;
    }
    case 'list':
      for (const a of await withServices((_s, admin) => listConsoleAccounts(admin))) print(JSON.stringify(a));
      return 0;
    case 'reset-totp':
      if (!name) return usage();
      await withServices((_s, admin) => resetConsoleTotp(admin, name));
      print(`console account ${name} sets up a new TOTP code at its next sign-in`);
      return 0;
    default:
      return usage();
  }
}
