// The console's YubiKey enrolment in Chromium: the tool's values typed in, secrets never shown
// back, and the key then logs the user in (OTP from Debian's ykgenerate).
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { launchBrowser, type TestBrowser } from '../harness/browser.ts';
import { Api, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';
import { ensureYkgenerate, newTestYubikey, ykgenerate } from '../harness/ykgenerate.ts';
import { assertAccessible, signIn } from './console-support.ts';

describe('console: enrol a YubiKey', () => {
  let node: TesseraHandle;
  let api: Api;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    ensureYkgenerate();
    node = await startTessera();
    api = new Api(node.url, node.adminKey);
    const made = await runCli(['console', 'add-admin', '--username', 'yk-admin'], {
      TESSERA_DATA_DIR: node.dataDir,
    });
    assert.equal(made.code, 0, made.err);
    await api.ok('POST', '/v1/admin/users', { username: 'kim' });
    browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
    page = await browser.context.newPage();
    await signIn(page, node.url, 'yk-admin', made.out.trim());
  });
  afterAll(async () => {
    await browser?.close();
    await node?.stop();
  });

  test('from the enrol page to a working key; a mistyped key is refused without echoing secrets', async () => {
    const key = newTestYubikey();
    await page.goto(`${node.url}/ui/users/kim/tokens/new`);
    await page.getByRole('link', { name: /YubiKey/ }).click();
    await page.waitForURL(/\/tokens\/yubikey$/);
    await assertAccessible(page);
    await page.getByLabel('Public identity').fill(key.publicId);
    await page.getByLabel('Private identity').fill(key.privateId);
    await page.getByLabel('Secret key').fill(key.aesKey.slice(1));
    await page.getByRole('button', { name: 'Enrol the YubiKey' }).click();
    await page.getByText('32 hex characters.').waitFor();
    const html = await page.content();
    assert.ok(!html.includes(key.privateId) && !html.includes(key.aesKey.slice(1)), 'no secret echoed');
    assert.equal(await page.getByLabel('Public identity').inputValue(), key.publicId);
    await page.getByLabel('Private identity').fill(key.privateId);
    await page.getByLabel('Secret key').fill(key.aesKey);
    await page.getByLabel('Description').fill('blue key');
    await page.getByRole('button', { name: 'Enrol the YubiKey' }).click();
    await page.waitForURL(/\/ui\/users\/kim$/);
    await page.getByText(`YubiKey YK${key.publicId} enrolled.`).waitFor();
    assert.equal(await page.locator('tbody tr').filter({ hasText: 'blue key' }).count(), 1);
    const clientKey = await api.createClient('api');
    const r = await api.call('POST', '/v1/validate', { user: 'kim', pass: ykgenerate(key, 1, 0) }, clientKey);
    assert.deepEqual([r.body.result, r.body.reason], ['accept', 'OK']);
  });
});
