import { createAdminKey, listAdminKeys, parseExpiry, revokeAdminKey } from '../../admin/index.ts';
import { ADMIN_ROLES, type AdminRole } from '../../model/index.ts';
import { parse, print, withServices } from '../context.ts';

const USAGE =
  'usage: tessera admin-key create --name NAME [--role superadmin|helpdesk|auditor] [--expires ISO-8601]\n' +
  '       tessera admin-key list | revoke ID\n';

function usage(problem?: string): number {
  process.stderr.write(`${problem ? `tessera admin-key: ${problem}\n` : ''}${USAGE}`);
  return 2;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    name: { type: 'string' },
    role: { type: 'string' },
    expires: { type: 'string' },
  });
  const [action, id] = positionals;
  switch (action) {
    case 'create': {
      if (!values.name) return usage();
      const role = ADMIN_ROLES.find((r) => r === (values.role ?? 'superadmin'));
      if (!role) return usage(`--role must be one of ${ADMIN_ROLES.join(', ')}`);
      const expiresAt = values.expires === undefined ? undefined : parseExpiry(values.expires);
      if (expiresAt === null)
        return usage('--expires must be a date (2027-01-31) or an ISO 8601 time with a zone');
      const name = values.name;
      const { key, apiKey } = await withServices((_s, admin) =>
        createAdminKey(admin, { name, role: role as AdminRole, ...(expiresAt ? { expiresAt } : {}) }),
      );
      // stdout carries the key alone, for scripts; what it is goes to stderr.
      process.stderr.write(`admin key ${key.id} (${key.role}) created; the key is shown once:\n`);
      print(apiKey);
      return 0;
    }
    case 'list': {
      for (const key of await withServices((_s, admin) => listAdminKeys(admin))) print(JSON.stringify(key));
      return 0;
    }
    case 'revoke': {
      if (!id) return usage();
      await withServices((_s, admin) => revokeAdminKey(admin, id));
      print(`admin key ${id} revoked`);
      return 0;
    }
    default:
      break;
  }
  return usage();
}
