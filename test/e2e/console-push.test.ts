// The console's push controls, in Debian's Chromium against a real node: the users page's bulk
// "Enable push" (push switched on, invitations mailed to those without a paired phone) and the
// clients page's push mode (poll / hold / code, hold seconds). CSRF, audit and axe-core checked.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { launchBrowser, type TestBrowser } from '../harness/browser.ts';
import { DeviceClient, fetchTransport } from '../harness/device-client.ts';
import { type SmtpHandle, smtpEnv, startSmtp } from '../harness/smtp.ts';
import { Api, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';
import { assertAccessible, signIn, submitAndSee } from './console-support.ts';

interface AuditItem {
  type: string;
  actor?: string;
  username?: string;
  detail?: Record<string, unknown>;
}

describe('console: push for many users at once, and push modes per client', () => {
  let node: TesseraHandle;
  let smtp: SmtpHandle;
  let api: Api;
  let browser: TestBrowser;
  let page: Page;
  let base = '';
  let clientId = '';

  beforeAll(async () => {
    smtp = await startSmtp();
    node = await startTessera({ env: smtpEnv(smtp) });
    base = node.url;
    api = new Api(node.url, node.adminKey);
    const made = await runCli(['console', 'add-admin', '--username', 'push-admin'], {
      TESSERA_DATA_DIR: node.dataDir,
    });
    assert.equal(made.code, 0, made.err);
    await api.ok('POST', '/v1/admin/users', { username: 'pia', email: 'pia@example.test' });
    await api.ok('POST', '/v1/admin/users', { username: 'quin' });
    await api.ok('POST', '/v1/admin/users', { username: 'rex', email: 'rex@example.test' });
    for (const u of ['pia', 'quin', 'rex'])
      await api.ok('PATCH', `/v1/admin/users/${u}`, { methods: { push: 'disabled' } });
    clientId = (await api.ok('POST', '/v1/admin/clients', { name: 'vpn-gw', kind: 'radius' })).id;
    browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
    page = await browser.context.newPage();
    await signIn(page, base, 'push-admin', made.out.trim());
  });
  afterAll(async () => {
    await browser?.close();
    await node?.stop();
    await smtp?.close();
  });

  const audit = async (): Promise<AuditItem[]> =>
    (await api.ok('GET', '/v1/admin/audit?stream=admin&limit=100')).items;

  test('users: "Enable push" switches push on and invites those without a paired phone', async () => {
    await page.goto(`${base}/ui/users`);
    await assertAccessible(page);
    await page.getByLabel('Select pia').check();
    await page.getByLabel('Select quin').check();
    await page.locator('#f-bulk-action').selectOption('push');
    await page.getByRole('button', { name: 'Apply' }).click();
    const flash = page.getByText(/Push enabled for 2 user\(s\)\./);
    await flash.waitFor();
    const said = (await flash.textContent()) ?? '';
    assert.match(said, /1 invited to pair a phone: pia\./);
    assert.match(said, /1 switched on, no mail address to invite: quin\./);
    await assertAccessible(page);
    for (const u of ['pia', 'quin'])
      assert.equal((await api.ok('GET', `/v1/admin/users/${u}`)).methods.push, 'enabled', u);
    assert.equal(
      (await api.ok('GET', `/v1/admin/users/rex`)).methods.push,
      'disabled',
      'rex was not selected',
    );
    const mail = await smtp.waitForMail('pia@example.test');
    assert.match(mail.text, /\/portal\//);
    const events = await audit();
    for (const u of ['pia', 'quin'])
      assert.ok(
        events.some((e) => e.type === 'user.update' && e.username === u && e.actor === 'console:push-admin'),
        `audited for ${u}`,
      );
  });

  test("a user's page shows each device's registration, phone name, last sync and configuration", async () => {
    await api.ok('POST', '/v1/admin/users', { username: 'sol' });
    await api.ok('POST', '/v1/admin/users/sol/tokens', { type: 'totp', description: 'old app' });
    const enrolled = await api.ok('POST', '/v1/admin/users/sol/tokens', { type: 'push' });
    const phone = await DeviceClient.create(fetchTransport(node.url));
    assert.equal((await phone.pair(enrolled.pairing.pairingToken, 'Sol Pixel')).status, 201);
    assert.equal((await phone.request('POST', '/v1/device/sync', {})).status, 200);
    await page.goto(`${base}/ui/users/sol`);
    const rows = page.locator('#h-tokens + p + table tbody tr, section[aria-labelledby="h-tokens"] tbody tr');
    const online = (await rows.filter({ hasText: enrolled.serial }).first().textContent()) ?? '';
    assert.match(online, /online: Sol Pixel/);
    assert.match(online, /last sync \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    assert.match(online, /number matching on/);
    const offline = (await rows.filter({ hasText: 'old app' }).first().textContent()) ?? '';
    assert.match(offline, /offline/);
    await assertAccessible(page);
  });

  test('users: the bulk form without its CSRF token changes nothing', async () => {
    const reply = await page.request.post(`${base}/ui/users/bulk`, {
      form: { u: 'rex', action: 'push' },
      maxRedirects: 0,
    });
    assert.equal(reply.status(), 403);
    assert.equal((await api.ok('GET', `/v1/admin/users/rex`)).methods.push, 'disabled');
  });

  test('clients: the push mode and hold time are saved; a bad hold time comes back next to its field', async () => {
    await page.goto(`${base}/ui/clients`);
    await assertAccessible(page);
    const mode = page.getByLabel('Push logins');
    const hold = page.getByLabel('Hold seconds');
    assert.equal(await mode.inputValue(), 'poll');
    await mode.selectOption('hold');
    await hold.fill('500');
    await page.getByRole('button', { name: 'Save push mode of vpn-gw' }).click();
    await page.getByText('Hold time: whole seconds from 1 to 120.').waitFor();
    assert.equal(await page.getByLabel('Hold seconds').getAttribute('aria-invalid'), 'true');
    await assertAccessible(page);
    let client = await api.ok('GET', `/v1/admin/clients/${clientId}`);
    assert.equal(client.pushMode, undefined, 'nothing was saved');

    await page.getByLabel('Push logins').selectOption('hold');
    await page.getByLabel('Hold seconds').fill('10');
    await page.getByRole('button', { name: 'Save push mode of vpn-gw' }).click();
    await page.getByText('Push mode of vpn-gw saved.').waitFor();
    client = await api.ok('GET', `/v1/admin/clients/${clientId}`);
    assert.equal(client.pushMode, 'hold');
    assert.equal(client.pushHoldSeconds, 10);
    assert.equal(await page.getByLabel('Push logins').inputValue(), 'hold');
    assert.equal(await page.getByLabel('Hold seconds').inputValue(), '10');

    await page.getByLabel('Push logins').selectOption('code');
    await submitAndSee(
      page,
      page.getByRole('button', { name: 'Save push mode of vpn-gw' }),
      'Push mode of vpn-gw saved.',
    );
    assert.equal((await api.ok('GET', `/v1/admin/clients/${clientId}`)).pushMode, 'code');
    assert.ok(
      (await audit()).some((e) => e.type === 'client.update' && e.actor === 'console:push-admin'),
      'the change is audited',
    );
  });

  test('clients: the push form without its CSRF token changes nothing', async () => {
    const reply = await page.request.post(`${base}/ui/clients/${clientId}/push`, {
      form: { pushMode: 'poll', pushHoldSeconds: '2' },
      maxRedirects: 0,
    });
    assert.equal(reply.status(), 403);
    assert.equal((await api.ok('GET', `/v1/admin/clients/${clientId}`)).pushMode, 'code');
  });
});
