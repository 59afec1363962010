// A console account whose password the directory checks: real slapd, real node, Chromium.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { launchBrowser, type TestBrowser } from '../harness/browser.ts';
import { type DirectoryNode, startDirectoryNode } from '../harness/directory.ts';
import { runCli, type TesseraHandle } from '../harness/tessera.ts';
import { signIn } from './console-support.ts';

const PW = 'Directory pass 42';

describe('console: a directory account signs in with its directory password and a TOTP code', () => {
  let dir: DirectoryNode;
  let node: TesseraHandle;
  let browser: TestBrowser;
  beforeAll(async () => {
    dir = await startDirectoryNode({
      people: [{ uid: 'hal', cn: 'Hal Hill', password: PW }],
      source: { timeoutMs: 2000, connectTimeoutMs: 1000 },
    });
    node = dir.node;
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await dir?.stop();
  });

  test('an unknown source is refused; then the bind checks the password', async () => {
    const env = { TESSERA_DATA_DIR: node.dataDir };
    const bad = await runCli(
      ['console', 'add-admin', '--username', 'hal', '--role', 'helpdesk', '--directory-source', 'nope'],
      env,
    );
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /directory source "nope" does not exist/);
    const made = await runCli(
      ['console', 'add-admin', '--username', 'hal', '--role', 'helpdesk', '--directory-source', 'corp'],
      env,
    );
    assert.equal(made.code, 0, made.err);
    assert.equal(made.out.trim(), '', 'no password is made for a directory account');
    const page = await browser.context.newPage();
    await page.goto(`${node.url}/ui/signin`);
    await page.getByLabel('Username').fill('hal');
    await page.getByLabel('Password').fill('not the directory password');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('The username, password or code is not right.').waitFor();
    await signIn(page, node.url, 'hal', PW);
    await page.getByText('hal (helpdesk)').waitFor();
    assert.equal((await page.goto(`${node.url}/ui/directory`))?.status(), 403);
  });
});
