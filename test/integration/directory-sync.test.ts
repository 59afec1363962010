import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { AdminContext } from '../../src/admin/context.ts';
import { loadSettings } from '../../src/admin/settings.ts';
import { KeyRing } from '../../src/crypto/index.ts';
import {
  addSource,
  getSource,
  probeSource,
  publicSource,
  sealSource,
  syncSource,
} from '../../src/directory/index.ts';
import { TesseraError } from '../../src/model/index.ts';
import { openEmbeddedStore, type Store } from '../../src/store/index.ts';
import { groupLdif, personLdif, type SlapdProcess, startSlapd } from '../harness/slapd.ts';

let slapd: SlapdProcess;
let store: Store;
let dir: string;
const ring = KeyRing.generate();
const audits: string[] = [];

function ctx(): AdminContext {
  return {
    store,
    keyring: ring,
    settings: () => loadSettings(store),
    audit: (type) => {
      audits.push(type);
    },
  };
}

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof TesseraError, String(e));
    assert.equal(e.code, code, e.message);
    return true;
  });
}

beforeAll(async () => {
  slapd = await startSlapd();
  slapd.ldif(
    [
      personLdif({
        uid: 'alice',
        cn: 'Alice Adams',
        mail: 'alice@example.org',
        mobile: '+15550001',
        password: 'alice-pw',
      }),
      personLdif({ uid: 'bob', cn: 'Bob Brown', mail: 'bob@example.org' }),
      personLdif({ uid: 'Carol', cn: 'Carol Clark' }),
      personLdif({ uid: 'dave', cn: 'Dave Dunn' }),
      groupLdif('vpn', ['alice', 'bob']),
    ].join('\n'),
  );
  dir = mkdtempSync(join(tmpdir(), 'tessera-dirsync-'));
  store = openEmbeddedStore(dir);
  await store.putGroup({ name: 'vpn', methods: { hotp: 'disabled' }, permanent: false });
  const source = sealSource(
    {
      name: 'corp',
      url: slapd.url,
      bindDn: slapd.rootDn,
      bindPassword: slapd.rootPassword,
      baseDn: slapd.suffix,
      groupFilter: '(objectClass=groupOfNames)',
      preset: 'openldap',
      maxDisableFraction: 0.25,
    },
    ring,
    Date.now(),
  );
  await addSource(store, source);
}, 120_000);

afterAll(async () => {
  await store?.close();
  await slapd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('directory source against slapd', () => {
  test('the bind password is sealed at rest and never in the public view', async () => {
    const stored = await getSource(store, 'corp');
    const raw = JSON.stringify(await store.getSettings());
    assert.ok(!raw.includes(slapd.rootPassword), 'clear bind password in the stored settings');
    assert.ok(stored.bindPasswordSealed.startsWith('v1:'));
    assert.ok(!JSON.stringify(publicSource(stored)).includes('bindPassword'));
  });

  test('probe: a working source binds and finds users', async () => {
    const r = await probeSource(await getSource(store, 'corp'), ring, 2);
    assert.equal(r.sampleCount, 2);
  });

  test('probe: each failure has its own code', async () => {
    const good = await getSource(store, 'corp');
    const variant = (over: Record<string, unknown>, password = slapd.rootPassword) =>
      sealSource({ ...publicSource(good), bindPassword: password, ...over } as never, ring, Date.now());
    await rejects(probeSource(variant({}, 'wrong-password'), ring), 'DIRECTORY_BAD_CREDENTIALS');
    await rejects(
      probeSource(variant({ baseDn: `ou=nowhere,${slapd.suffix}` }), ring),
      'DIRECTORY_BAD_BASE_DN',
    );
    assert.throws(() => variant({ userFilter: '(uid=alice' }), { code: 'DIRECTORY_BAD_FILTER' });
    // a stored filter that does not parse (an older version's, or edited by hand) fails the probe
    await rejects(probeSource({ ...good, userFilter: '(uid=alice' }, ring), 'DIRECTORY_BAD_FILTER');
    await rejects(probeSource(variant({ url: 'ldap://127.0.0.1:1' }), ring), 'DIRECTORY_UNREACHABLE');
    // a plain LDAP port spoken to with TLS fails the handshake
    await rejects(probeSource(variant({ url: slapd.url.replace('ldap:', 'ldaps:') }), ring), 'DIRECTORY_TLS');
  });

  test('sync: dry run changes nothing, then creates users with mapped attributes and groups', async () => {
    const dry = await syncSource(ctx(), await getSource(store, 'corp'), { dryRun: true });
    assert.deepEqual(
      { ...dry, changes: undefined },
      { created: 4, updated: 0, disabled: 0, deleted: 0, skipped: 0, invited: 0, changes: undefined },
    );
    assert.equal(await store.countUsers(), 0);

    const r = await syncSource(ctx(), await getSource(store, 'corp'));
    assert.equal(r.created, 4);
    const alice = await store.getUser('alice');
    assert.ok(alice);
    assert.equal(alice.displayName, 'Alice Adams');
    assert.equal(alice.email, 'alice@example.org');
    assert.equal(alice.phone, '+15550001');
    assert.equal(alice.group, 'vpn');
    assert.equal(alice.directory?.source, 'corp');
    assert.match(alice.directory?.id ?? '', /^[0-9a-f-]{36}$/);
    // canonical username: the directory's "Carol" is the user "carol"
    assert.equal((await store.getUser('carol'))?.group, 'default');

    const again = await syncSource(ctx(), await getSource(store, 'corp'));
    assert.deepEqual([again.created, again.updated, again.disabled], [0, 0, 0]);
  });

  test('sync: a rename in the directory renames the user, not a new one', async () => {
    const before = await store.getUser('bob');
    slapd.ldif(
      [
        `dn: uid=bob,ou=people,${slapd.suffix}`,
        'changetype: modrdn',
        'newrdn: uid=robert',
        'deleteoldrdn: 1',
        '',
        `dn: uid=robert,ou=people,${slapd.suffix}`,
        'changetype: modify',
        'replace: mail',
        'mail: robert@example.org',
        '',
      ].join('\n'),
      'modify',
    );
    const dry = await syncSource(ctx(), await getSource(store, 'corp'), { dryRun: true });
    assert.equal(dry.updated, 1);
    assert.ok(await store.getUser('bob'), 'a dry run renamed');
    const r = await syncSource(ctx(), await getSource(store, 'corp'));
    assert.deepEqual([r.created, r.updated], [0, 1]);
    assert.equal(await store.getUser('bob'), null);
    const robert = await store.getUser('robert');
    assert.equal(robert?.email, 'robert@example.org');
    assert.equal(robert?.directory?.id, before?.directory?.id);
    assert.equal(robert?.createdAt, before?.createdAt);
    // member DNs of the group are not renamed by slapd without refint: robert left "vpn"
    assert.equal(robert?.group, 'default');
  });

  test('sync: a user gone from the directory is disabled, never deleted, and comes back', async () => {
    slapd.ldif(`dn: uid=dave,ou=people,${slapd.suffix}\nchangetype: delete\n`, 'modify');
    const dry = await syncSource(ctx(), await getSource(store, 'corp'), { dryRun: true });
    assert.equal(dry.disabled, 1);
    assert.equal((await store.getUser('dave'))?.enabled, true, 'a dry run disabled');
    const r = await syncSource(ctx(), await getSource(store, 'corp'));
    assert.deepEqual([r.disabled, r.deleted], [1, 0]);
    const dave = await store.getUser('dave');
    assert.equal(dave?.enabled, false);
    assert.equal(dave?.directory?.disabledBySync, true);

    slapd.ldif(personLdif({ uid: 'dave', cn: 'Dave Dunn' }));
    // a new entry has a new entryUUID: the old disabled user keeps its name, so it is skipped
    const back = await syncSource(ctx(), await getSource(store, 'corp'));
    assert.equal(back.skipped, 1);
    assert.equal((await store.getUser('dave'))?.enabled, false);
  });

  test('sync: a filter that loses most users is refused unless forced', async () => {
    const settings = await loadSettings(store);
    const broken = { ...(await getSource(store, 'corp')), userFilter: '(uid=alice)' };
    await store.putSettings({ ...settings, directorySources: [broken] });
    const usersBefore = JSON.stringify((await store.listUsers()).items);
    await rejects(syncSource(ctx(), broken), 'DIRECTORY_SYNC_LIMIT');
    assert.equal(
      JSON.stringify((await store.listUsers()).items),
      usersBefore,
      'a refused sync changed users',
    );
    const forced = await syncSource(ctx(), broken, { force: true, dryRun: true });
    assert.equal(forced.disabled, 2);
    await store.putSettings(settings);
  });
});
