import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { personLdif, type SlapdProcess, startSlapd } from '../harness/slapd.ts';
import { baseEnv, REPO_ROOT, runCli } from '../harness/tessera.ts';

/** Runs the CLI on a pseudo-terminal (util-linux `script`), as an operator at a shell would. */
function onTerminal(args: string[], env: Record<string, string>): Promise<string> {
  const command = [process.execPath, join(REPO_ROOT, 'bin/tessera.mjs'), ...args]
    .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
    .join(' ');
  return new Promise((resolve, reject) => {
    execFile(
      'script',
      ['-qec', command, '/dev/null'],
      { cwd: REPO_ROOT, env: { ...baseEnv(), TESSERA_LOG_LEVEL: 'warn', ...env }, timeout: 60_000 },
      (err, out) => (err ? reject(err) : resolve(String(out))),
    );
  });
}

describe('tessera directory (CLI against a data directory and a real slapd)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-dircli-'));
  const tessera = (...args: string[]) => runCli(args, { TESSERA_DATA_DIR: dataDir });
  let slapd: SlapdProcess;

  beforeAll(async () => {
    slapd = await startSlapd();
    slapd.ldif(
      [personLdif({ uid: 'fay', cn: 'Fay Fox' }), personLdif({ uid: 'gus', cn: 'Gus Gray' })].join('\n'),
    );
  }, 120_000);
  afterAll(async () => {
    await slapd?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('add from a password file, test, dry-run sync, sync, remove', async () => {
    const pwFile = join(dataDir, 'bind.pw');
    writeFileSync(pwFile, `${slapd.rootPassword}\n`, { mode: 0o600 });
    const add = await tessera(
      ...['directory', 'add', '--name', 'corp', '--url', slapd.url, '--bind-dn', slapd.rootDn],
      ...['--bind-password-file', pwFile, '--base-dn', slapd.suffix, '--preset', 'openldap'],
    );
    assert.equal(add.code, 0, add.err);
    const list = await tessera('directory', 'list');
    assert.equal(list.code, 0, list.err);
    assert.equal(JSON.parse(list.out.trim()).name, 'corp');
    assert.ok(!list.out.includes(slapd.rootPassword) && !/bindPassword/.test(list.out));

    const probe = await tessera('directory', 'test', 'corp');
    assert.equal(probe.code, 0, probe.err);
    assert.match(probe.out, /found 2 sample entries/);

    const dry = await tessera('directory', 'sync', '--dry-run');
    assert.equal(dry.code, 0, dry.err);
    assert.match(dry.out, /corp\tcreate\tfay/);
    assert.match(dry.out, /created 2, .*\(dry run: nothing changed\)/);
    const none = await tessera('user', 'list');
    assert.doesNotMatch(none.out, /fay/);

    const sync = await tessera('directory', 'sync', '--source', 'corp');
    assert.equal(sync.code, 0, sync.err);
    assert.match(sync.out, /corp: created 2, updated 0, disabled 0, deleted 0, skipped 0/);
    assert.match((await tessera('user', 'list')).out, /fay\tenabled/);

    // a pipe gets the summary only, never a progress line
    assert.doesNotMatch(`${dry.out}${dry.err}${sync.out}${sync.err}`, /read \d+ entries|\r/);
    // on a terminal the same command shows its progress, rewritten in place, then the summary
    const tty = await onTerminal(['directory', 'sync', '--dry-run'], { TESSERA_DATA_DIR: dataDir });
    assert.ok(tty.includes('\r\u001b[2Kcorp: read '), JSON.stringify(tty.slice(0, 300)));
    assert.match(
      tty,
      /corp: created 0, updated 0, disabled 0, deleted 0, skipped 0, invited 0 in [\d.]+ s \(dry run/,
    );

    const missing = await tessera('directory', 'sync', '--source', 'nope');
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no directory source "nope"/);
    assert.equal((await tessera('directory', 'remove', 'corp')).code, 0);
    assert.equal((await tessera('directory', 'list')).out.trim(), '');
    for (const r of [add, list, probe, dry, sync, missing])
      assert.ok(!`${r.out}${r.err}`.includes(slapd.rootPassword));
  });
});
