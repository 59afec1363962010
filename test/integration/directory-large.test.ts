import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, SizeLimitExceededError } from 'ldapts';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { loadSettings } from '../../src/admin/settings.ts';
import { KeyRing } from '../../src/crypto/index.ts';
import { type SyncProgress, sealSource, syncSource } from '../../src/directory/index.ts';
import { openEmbeddedStore, type Store } from '../../src/store/index.ts';
import { personLdif, SLAPD_SUFFIX, type SlapdProcess, startSlapd } from '../harness/slapd.ts';

const USERS = 1_200;
const READER = `cn=reader,${SLAPD_SUFFIX}`;
const READER_PW = 'reader-pw-1';
/** What slapd gives the service account in one search (or one page): far fewer than the users. */
const SERVER_LIMIT = 100;

// A directory bigger than what its server returns in one search: only the paged results control
// (page size from the source) reads it all. Real slapd with a size limit on the service account.
describe('large syncs page through the directory (real slapd with a size limit)', () => {
  let slapd: SlapdProcess;
  let store: Store;
  let dir: string;
  const ring = KeyRing.generate();

  beforeAll(async () => {
    slapd = await startSlapd({
      databaseLines: [
        `limits dn.exact="${READER}" size.soft=${SERVER_LIMIT} size.hard=${SERVER_LIMIT} size.prtotal=unlimited`,
      ],
    });
    slapd.ldif(
      [
        `dn: ${READER}`,
        'objectClass: organizationalRole',
        'objectClass: simpleSecurityObject',
        'cn: reader',
        `userPassword: ${READER_PW}`,
        '',
        ...Array.from({ length: USERS }, (_, i) => personLdif({ uid: `p${i}`, cn: `Person ${i}` })),
      ].join('\n'),
    );
    dir = mkdtempSync(join(tmpdir(), 'tessera-dirlarge-'));
    store = openEmbeddedStore(dir);
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await slapd?.stop();
  });

  test('the server stops a search without paging at its limit', async () => {
    const client = new Client({ url: slapd.url });
    try {
      await client.bind(READER, READER_PW);
      await assert.rejects(
        client.search(slapd.suffix, { scope: 'sub', filter: '(objectClass=inetOrgPerson)' }),
        SizeLimitExceededError,
      );
    } finally {
      await client.unbind();
    }
  });

  test('a sync with the source page size reads every user, reporting progress page by page', async () => {
    const source = sealSource(
      {
        name: 'big',
        url: slapd.url,
        bindDn: READER,
        bindPassword: READER_PW,
        baseDn: slapd.suffix,
        preset: 'openldap',
        pageSize: 50,
      },
      ring,
      Date.now(),
    );
    const progress: SyncProgress[] = [];
    const ctx = { store, keyring: ring, settings: () => loadSettings(store), audit: () => {} };
    const r = await syncSource(ctx, source, { onProgress: (p) => progress.push(p) });
    assert.equal(r.created, USERS);
    assert.equal(await store.countUsers(), USERS);
    const reads = progress.filter((p) => p.phase === 'read');
    assert.equal(reads.at(-1)?.done, USERS);
    const writes = progress.filter((p) => p.phase === 'write');
    assert.deepEqual([writes.at(-1)?.done, writes.at(-1)?.total], [USERS, USERS]);
    // read progress arrives before the last page, not only at the end
    assert.ok(reads.findIndex((p) => p.done === 50) < reads.length - 1);
    const again = await syncSource(ctx, source);
    assert.deepEqual([again.created, again.updated, again.disabled], [0, 0, 0]);
  });
});
