import { createUser, deleteUser, publicUser, unlockUser } from '../../admin/index.ts';
import { canonicalUsername, requireCanonicalUsername } from '../../model/index.ts';
import { inviteUser, revokeInvitations } from '../../portal/index.ts';
import { within } from '../../store/within.ts';
import { parse, print, readSecretFile, withServices } from '../context.ts';
import { importFile } from './user-import.ts';

const USAGE =
  'usage: tessera user add USERNAME [--email E] [--group G] [--display-name N] [--pin-file F] [--no-mfa]\n' +
  '       tessera user list [--prefix P] | show USERNAME | delete USERNAME | unlock USERNAME\n' +
  '       tessera user import FILE.csv [--dry-run] [--no-update] [--map FIELD=HEADER,...]\n' +
  '       tessera user invite USERNAME [--send-to ADDRESS] [--ttl-hours H] | uninvite USERNAME\n';

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    email: { type: 'string' },
    group: { type: 'string' },
    'display-name': { type: 'string' },
    'pin-file': { type: 'string' },
    'no-mfa': { type: 'boolean' },
    prefix: { type: 'string' },
    'dry-run': { type: 'boolean' },
    'no-update': { type: 'boolean' },
    map: { type: 'string' },
    'send-to': { type: 'string' },
    'ttl-hours': { type: 'string' },
  });
  const [action, username] = positionals;
  switch (action) {
    case 'add': {
      if (!username) break;
      const pin = values['pin-file'] ? readSecretFile(values['pin-file']) : undefined;
      const user = await withServices((_s, admin) =>
        createUser(admin, {
          username,
          ...(values.email ? { email: values.email } : {}),
          ...(values.group ? { group: values.group } : {}),
          ...(values['display-name'] ? { displayName: values['display-name'] } : {}),
          ...(pin ? { pin } : {}),
          ...(values['no-mfa'] ? { mfaRequired: false } : {}),
        }),
      );
      print(JSON.stringify(publicUser(user)));
      return 0;
    }
    case 'list': {
      // Names are listed as stored (a record the migration could not rename shows as it is).
      const prefix = values.prefix ? canonicalUsername(values.prefix) : undefined;
      if (prefix === null) return 0;
      await withServices(async (s) => {
        let after: string | undefined;
        do {
          const page = await s.store.listUsers({
            limit: 500,
            ...(prefix ? { prefix } : {}),
            ...(after ? { after } : {}),
          });
          for (const u of page.items)
            print(`${u.username}\t${u.enabled ? 'enabled' : 'disabled'}\t${u.email ?? ''}`);
          after = page.next;
        } while (after);
      });
      return 0;
    }
    case 'show': {
      if (!username) break;
      const name = requireCanonicalUsername(username);
      const view = await withServices((s) => s.store.loadAuthView(name));
      if (!view) {
        process.stderr.write(`tessera user: no user "${name}"\n`);
        return 1;
      }
      print(JSON.stringify({ ...publicUser(view.user), tokens: view.tokens.map((t) => t.serial) }, null, 2));
      return 0;
    }
    case 'import':
      // positionals[1] is the file here
      if (!username) break;
      return importFile(username, {
        dryRun: values['dry-run'] ?? false,
        update: !values['no-update'],
        map: values.map,
      });
    case 'delete':
      if (!username) break;
      await withServices((_s, admin) => deleteUser(admin, username));
      return 0;
    case 'invite': {
      if (!username) break;
      const hours = values['ttl-hours'] === undefined ? undefined : Number(values['ttl-hours']);
      if (hours !== undefined && !(hours > 0 && hours <= 2160)) break;
      const sent = await withServices(async (s) => {
        const r = await inviteUser(s.selfService('cli'), username, {
          ...(values['send-to'] ? { sendTo: values['send-to'] } : {}),
          ...(hours ? { ttlMs: Math.round(hours * 3_600_000) } : {}),
        });
        // the mail goes from this process: wait for it (bounded) before the queue closes; the
        // queue's own timers do not hold a process open, so this wait's timer must (within's does)
        await within(s.notifier.idle(), 30_000);
        return {
          ...r.view,
          mailed: r.mailed && (await s.notifier.deadLetters.get()).values.every((v) => v.value === 0),
        };
      });
      print(JSON.stringify(sent));
      return sent.mailed ? 0 : 1;
    }
    case 'uninvite':
      if (!username) break;
      print(
        JSON.stringify({
          revoked: await withServices((s) => revokeInvitations(s.selfService('cli'), username)),
        }),
      );
      return 0;
    case 'unlock':
      if (!username) break;
      await withServices((_s, admin) => unlockUser(admin, username));
      return 0;
    default:
      break;
  }
  process.stderr.write(USAGE);
  return 2;
}
