import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { KeyRing } from '../../src/crypto/index.ts';
import { directoryPasswords, probeSource, type SourceInput, sealSource } from '../../src/directory/index.ts';
import { DEFAULT_SETTINGS, TesseraError, type User } from '../../src/model/index.ts';
import { openEmbeddedStore } from '../../src/store/index.ts';
import { personLdif, type SlapdProcess, startSlapd } from '../harness/slapd.ts';
import { makeTlsMaterial, type TlsMaterial } from '../harness/tls.ts';

describe('directory over TLS (slapd with a CA made here)', () => {
  let tls: TlsMaterial;
  let slapd: SlapdProcess;
  const ring = KeyRing.generate();
  const input = (over: Partial<SourceInput>): SourceInput => ({
    name: 'tls',
    url: slapd.ldapsUrl ?? '',
    bindDn: slapd.rootDn,
    bindPassword: slapd.rootPassword,
    baseDn: slapd.suffix,
    preset: 'openldap',
    connectTimeoutMs: 2000,
    timeoutMs: 2000,
    ...over,
  });
  const probe = (over: Partial<SourceInput>) => probeSource(sealSource(input(over), ring, Date.now()), ring);
  const refusedAs = async (p: Promise<unknown>, code: string) =>
    assert.rejects(p, (e: unknown) => e instanceof TesseraError && e.code === code);

  beforeAll(async () => {
    tls = makeTlsMaterial();
    slapd = await startSlapd({ tls });
    slapd.ldif(personLdif({ uid: 'tia', cn: 'Tia Tate', password: 'tls-user-pw' }));
  }, 120_000);
  afterAll(async () => {
    await slapd?.stop();
    tls?.remove();
  });

  test('ldaps:// with the CA works; without it, or with another CA, it is DIRECTORY_TLS', async () => {
    assert.ok(slapd.ldapsUrl);
    assert.equal((await probe({ caFile: tls.caFile })).ok, true);
    await refusedAs(probe({}), 'DIRECTORY_TLS');
    await refusedAs(probe({ caFile: tls.otherCaFile }), 'DIRECTORY_TLS');
  });

  test('StartTLS on ldap:// with the CA works; with another CA it is DIRECTORY_TLS', async () => {
    assert.equal((await probe({ url: slapd.url, startTls: true, caFile: tls.caFile })).ok, true);
    await refusedAs(probe({ url: slapd.url, startTls: true, caFile: tls.otherCaFile }), 'DIRECTORY_TLS');
  });

  test('a user password bind over ldaps:// (firstFactor "ldap")', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-dirtls-'));
    const store = openEmbeddedStore(dir);
    try {
      const source = sealSource(input({ caFile: tls.caFile }), ring, Date.now());
      await store.putSettings({
        ...DEFAULT_SETTINGS,
        directorySources: [source],
      });
      const user = {
        username: 'tia',
        directory: { source: 'tls', id: 'x', dn: `uid=tia,ou=people,${slapd.suffix}` },
      } as User;
      const passwords = directoryPasswords(store);
      assert.equal(await passwords.verify(user, 'tls-user-pw'), 'ok');
      assert.equal(await passwords.verify(user, 'wrong'), 'wrong');
      assert.equal(await passwords.verify(user, ''), 'wrong');
      const other = sealSource(input({ caFile: tls.otherCaFile }), ring, Date.now());
      await store.putSettings({ ...DEFAULT_SETTINGS, directorySources: [other] });
      // an untrusted server is never told the password: unavailable, not wrong
      assert.equal(await passwords.verify(user, 'tls-user-pw'), 'unavailable');
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
