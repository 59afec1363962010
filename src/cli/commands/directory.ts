import {
  addSource,
  listSources,
  probeSource,
  publicSource,
  removeSource,
  type SyncChange,
  sealSource,
  syncSource,
  terminalProgress,
} from '../../directory/index.ts';
import { TesseraError } from '../../model/index.ts';
import { syncInviter } from '../../portal/index.ts';
import { within } from '../../store/within.ts';
import { parse, print, readSecretFile, withServices } from '../context.ts';

const USAGE = `usage:
  tessera directory add --name NAME --url ldap[s]://HOST:PORT [--start-tls] --bind-dn DN
                        --bind-password-file PATH --base-dn DN --preset openldap|ad
                        [--user-filter F] [--group-filter F] [--ca-file PATH]
                        [--page-size N] [--sync-interval SECONDS] [--invite-new-users]
  tessera directory list | test NAME | remove NAME
  tessera directory sync [--source NAME] [--dry-run] [--force]
`;

function describe(c: SyncChange): string {
  switch (c.kind) {
    case 'create':
      return `create\t${c.user.username}\tgroup=${c.user.group}`;
    case 'update':
      return `update\t${c.from}${c.from !== c.user.username ? ` -> ${c.user.username}` : ''}\t${c.fields.join(',')}`;
    case 'disable':
      return `disable\t${c.user.username}`;
    case 'skip':
      return `skip\t${c.name}\t${c.reason}`;
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    name: { type: 'string' },
    url: { type: 'string' },
    'start-tls': { type: 'boolean' },
    'bind-dn': { type: 'string' },
    'bind-password-file': { type: 'string' },
    'base-dn': { type: 'string' },
    preset: { type: 'string' },
    'user-filter': { type: 'string' },
    'group-filter': { type: 'string' },
    'ca-file': { type: 'string' },
    'page-size': { type: 'string' },
    'sync-interval': { type: 'string' },
    source: { type: 'string' },
    'dry-run': { type: 'boolean' },
    'invite-new-users': { type: 'boolean' },
    force: { type: 'boolean' },
  });
  const [sub, arg] = positionals;
  if (sub === 'list') {
    for (const s of await withServices((svc) => listSources(svc.store)))
      print(JSON.stringify(publicSource(s)));
    return 0;
  }
  if (sub === 'test' && arg) {
    const r = await withServices(async (svc, admin) => {
      const source = (await listSources(svc.store)).find((s) => s.name === arg);
      if (!source) throw new TesseraError('NOT_FOUND', `no directory source "${arg}"`);
      return probeSource(source, admin.keyring);
    });
    print(`ok: bound and found ${r.sampleCount} sample entries in ${r.elapsedMs} ms`);
    return 0;
  }
  if (sub === 'remove' && arg) {
    const removed = await withServices(async (svc, admin) => {
      const done = await removeSource(svc.store, arg);
      if (done) admin.audit('directory.source.delete', { source: arg });
      return done;
    });
    if (!removed) throw new TesseraError('NOT_FOUND', `no directory source "${arg}"`);
    print(`source ${arg} removed`);
    return 0;
  }
  if (sub === 'add') {
    const { name, url, preset } = values;
    const bindDn = values['bind-dn'];
    const baseDn = values['base-dn'];
    const passwordFile = values['bind-password-file'];
    if (!name || !url || !bindDn || !baseDn || !passwordFile || (preset !== 'openldap' && preset !== 'ad')) {
      process.stderr.write(USAGE);
      return 2;
    }
    // the password comes from a file, never the command line (where `ps` and shell history see it)
    const bindPassword = readSecretFile(passwordFile);
    const userFilter = values['user-filter'];
    const groupFilter = values['group-filter'];
    const caFile = values['ca-file'];
    const pageSize = values['page-size'] ? Number(values['page-size']) : undefined;
    const interval = values['sync-interval'] ? Number(values['sync-interval']) : undefined;
    if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= 5000)) {
      throw new TesseraError('BAD_REQUEST', '--page-size must be 1..5000');
    }
    await withServices(async (svc, admin) => {
      const source = sealSource(
        {
          name,
          url,
          startTls: values['start-tls'] ?? false,
          bindDn,
          bindPassword,
          baseDn,
          preset,
          ...(userFilter ? { userFilter } : {}),
          ...(groupFilter ? { groupFilter } : {}),
          ...(caFile ? { caFile } : {}),
          ...(pageSize !== undefined ? { pageSize } : {}),
          ...(interval !== undefined ? { syncIntervalSeconds: interval } : {}),
          ...(values['invite-new-users'] ? { inviteNewUsers: true } : {}),
        },
        admin.keyring,
        Date.now(),
      );
      await addSource(svc.store, source);
      admin.audit('directory.source.create', { source: name });
    });
    print(`source ${name} added`);
    return 0;
  }
  if (sub === 'sync') {
    const dryRun = values['dry-run'] ?? false;
    const reports = await withServices(async (svc, admin) => {
      const all = await listSources(svc.store);
      const chosen = values.source ? all.filter((s) => s.name === values.source) : all;
      if (chosen.length === 0) {
        throw new TesseraError(
          'NOT_FOUND',
          values.source ? `no directory source "${values.source}"` : 'no directory sources',
        );
      }
      const out = [];
      for (const source of chosen) {
        // a progress line on a terminal only; the summary below is printed always
        const progress = terminalProgress(process.stderr, source.name);
        const started = Date.now();
        let r: Awaited<ReturnType<typeof syncSource>>;
        try {
          r = await syncSource(admin, source, {
            dryRun,
            force: values.force ?? false,
            onProgress: progress.update,
            invite: syncInviter(svc.selfService('cli')),
          });
        } finally {
          progress.end();
        }
        admin.audit('directory.sync', {
          source: source.name,
          dryRun: String(dryRun),
          invited: String(r.invited),
        });
        const ms = Date.now() - started;
        out.push({ source: source.name, r, ms });
      }
      // invitations go from this process: wait for them (bounded) before the queue closes; the
      // queue's own timers do not hold a process open, so this wait's timer must (within's does)
      if (out.some((o) => o.r.invited > 0)) await within(svc.notifier.idle(), 30_000);
      return out;
    });
    for (const { source, r, ms } of reports) {
      if (dryRun) for (const c of r.changes) print(`${source}\t${describe(c)}`);
      print(
        `${source}: created ${r.created}, updated ${r.updated}, disabled ${r.disabled}, deleted ${r.deleted}, skipped ${r.skipped}, invited ${r.invited} in ${(ms / 1000).toFixed(1)} s${dryRun ? ' (dry run: nothing changed)' : ''}`,
      );
    }
    return 0;
  }
  process.stderr.write(USAGE);
  return 2;
}
