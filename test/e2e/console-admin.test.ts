// The admin console as a superadmin uses it, in Debian's Chromium against a real node: first
// sign-in with password and TOTP enrolment, users, tokens (QR read back from the SVG), unlock,
// groups, clients, settings, cluster, logs and their CSV export. axe-core checks every page.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { launchBrowser, type TestBrowser } from '../harness/browser.ts';
import { awaitFreshStep, totpNow } from '../harness/codes.ts';
import { waitFor } from '../harness/ports.ts';
import { Api, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';
import {
  assertAccessible,
  decodeQrSvg,
  screenshot,
  secretOf,
  signIn,
  submitAndSee,
} from './console-support.ts';

let node: TesseraHandle;
let api: Api;
let browser: TestBrowser;
let page: Page;
let password = '';
let base = '';

describe('console: a superadmin at work', () => {
  beforeAll(async () => {
    node = await startTessera();
    base = node.url;
    api = new Api(node.url, node.adminKey);
    const made = await runCli(['console', 'add-admin', '--username', 'root-admin'], {
      TESSERA_DATA_DIR: node.dataDir,
    });
    assert.equal(made.code, 0, made.err);
    password = made.out.trim();
    assert.match(password, /^[A-Za-z0-9_-]{24}$/);
    for (const name of ['ann', 'bob', 'cleo', 'dan'])
      await api.ok('POST', '/v1/admin/users', { username: name });
    await api.ok('POST', '/v1/admin/groups', { name: 'staff' });
    browser = await launchBrowser({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await browser.context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await node?.stop();
  });

  test('a page without a session leads to the sign-in; a wrong password is refused and audited', async () => {
    await page.goto(`${base}/ui/users`);
    assert.match(page.url(), /\/ui\/signin$/);
    await assertAccessible(page);
    await page.getByLabel('Username').fill('root-admin');
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('The username, password or code is not right.').waitFor();
    assert.equal(await page.getByLabel('Username').inputValue(), 'root-admin');
    assert.equal(await page.getByLabel('Password').inputValue(), '');
    const audit = await api.ok('GET', '/v1/admin/audit?stream=admin&limit=20');
    assert.ok(
      audit.items.some(
        (e: { type: string; result: string; detail?: { step?: string } }) =>
          e.type === 'console.signin' && e.result === 'refused' && e.detail?.step === 'password',
      ),
    );
  });

  test('the first sign-in enrols the TOTP read from the QR code, then shows the dashboard', async () => {
    await signIn(page, base, 'root-admin', password);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const cookies = await browser.context.cookies(`${base}/ui/`);
    const session = cookies.find((c) => c.name === 'tessera_console');
    assert.ok(session);
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.path, '/ui');
    await assertAccessible(page);
  });

  test('users: search by prefix and filter; bad input comes back next to the field and makes nothing', async () => {
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByLabel('Username starts with').fill('b');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/q=b/);
    const rows = page.locator('tbody tr');
    assert.deepEqual(await rows.locator('td:nth-child(2)').allTextContents(), ['bob']);
    await assertAccessible(page);
    // typing alone updates the list in place (htmx), without a page load
    const marker = await page.evaluate(() => {
      (window as unknown as { stayed: boolean }).stayed = true;
      return true;
    });
    assert.ok(marker);
    await page.getByLabel('Username starts with').fill('c');
    await page.waitForURL(/q=c/);
    await page.locator('tbody tr td:nth-child(2)', { hasText: 'cleo' }).waitFor();
    assert.deepEqual(await rows.locator('td:nth-child(2)').allTextContents(), ['cleo']);
    assert.equal(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed), true);
    await page.goto(`${base}/ui/users/new`);
    await page.getByLabel('Username').fill('a/b');
    await page.getByLabel('Email').fill('not-an-address');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.locator('#f-email-err').waitFor();
    assert.match((await page.locator('#f-email-err').textContent()) ?? '', /email address/);
    assert.equal(await page.getByLabel('Email').getAttribute('aria-invalid'), 'true');
    await page.getByLabel('Email').fill('eve@example.org');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.locator('#f-username-err').waitFor();
    assert.match((await page.locator('#f-username-err').textContent()) ?? '', /\//);
    assert.equal(await page.getByLabel('Email').inputValue(), 'eve@example.org');
    assert.deepEqual(
      (await api.ok('GET', '/v1/admin/users?prefix=a')).items.map((u: { username: string }) => u.username),
      ['ann'],
    );
    await assertAccessible(page);
    await page.getByLabel('Username').fill('eve');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.waitForURL(/\/ui\/users\/eve$/);
    await page.getByText('User created.').waitFor();
    assert.equal((await api.ok('GET', '/v1/admin/users/eve')).email, 'eve@example.org');
  });

  test('tokens: enrol with a QR code read back from the SVG; its codes log the user in', async () => {
    await page.goto(`${base}/ui/users/ann`);
    await page.getByRole('link', { name: 'Enrol a token' }).click();
    await assertAccessible(page);
    await page.getByLabel('Description').fill('phone');
    await page.getByRole('button', { name: 'Enrol' }).click();
    const svg = await page.locator('svg.qr').evaluate((e) => e.outerHTML);
    const uri = decodeQrSvg(svg);
    assert.match(uri, /^otpauth:\/\/totp\/.*ann/);
    assert.equal(
      await page.getByRole('link', { name: /Open in an authenticator/ }).getAttribute('href'),
      uri,
    );
    await assertAccessible(page);
    const clientKey = await api.createClient('api');
    await awaitFreshStep();
    const r = await api.call(
      'POST',
      '/v1/validate',
      { user: 'ann', pass: totpNow(secretOf(uri)) },
      clientKey,
    );
    assert.equal(r.body.result, 'accept');
    await page.goto(`${base}/ui/users/ann`);
    assert.equal(await page.locator('tbody tr').filter({ hasText: 'phone' }).count(), 1);
    await page.getByText('Last logins').waitFor();
    assert.ok(
      (
        await page.locator('section', { hasText: 'Last logins' }).locator('tbody tr').first().textContent()
      )?.includes('accept'),
    );
  });

  test('tokens: mail and SMS codes are enrolled from the same page; no address to send to is said at the field', async () => {
    await page.goto(`${base}/ui/users/bob/tokens/new`);
    await page.getByLabel('Send codes by').selectOption('sms');
    await page.getByRole('button', { name: 'Add mail or SMS codes' }).click();
    await page.getByText('has no phone').waitFor();
    await assertAccessible(page);
    await page.getByLabel('Send codes by').selectOption('sms');
    await page.getByLabel('Destination (optional)').fill('+41 79 000 00 07');
    await page.getByRole('button', { name: 'Add mail or SMS codes' }).click();
    await page.getByText(/Token SMS[0-9A-F]+ enrolled/).waitFor();
    const tokens = (await api.ok('GET', '/v1/admin/users/bob')).tokens;
    assert.deepEqual(
      tokens.map((t: { type: string; destination?: string }) => [t.type, t.destination]),
      [['sms', '+41 79 000 00 07']],
    );
  });

  test('unlock: a user locked by wrong codes is unlocked from the user page', async () => {
    const clientKey = await api.createClient('api');
    await api.ok('PATCH', '/v1/admin/settings', {
      throttle: { failuresPerWindow: 0 },
      lockout: { threshold: 3 },
    });
    await api.createUserWithTotp('lockme');
    for (let i = 0; i < 3; i++)
      await api.call('POST', '/v1/validate', { user: 'lockme', pass: '000000' }, clientKey);
    assert.equal((await api.ok('GET', '/v1/admin/users/lockme')).locked, true);
    // The dashboard reuses its counts for up to 5 s under traffic (plugin/ui/stats.ts), and the
    // earlier tests may have shown it less than 5 s ago: look again until the lock shows.
    await waitFor(
      'lockme among the locked users on the dashboard',
      async () => {
        await page.goto(`${base}/ui/`);
        return (await page.getByRole('link', { name: 'lockme' }).count()) > 0;
      },
      20_000,
      1_000,
    );
    await screenshot(page, 'dashboard');
    await page.getByRole('link', { name: 'lockme' }).click();
    assert.match((await page.locator('#lock-state').textContent()) ?? '', /locked/);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByText('User unlocked.').waitFor();
    assert.match((await page.locator('#lock-state').textContent()) ?? '', /not locked; 0 failed/);
    assert.equal((await api.ok('GET', '/v1/admin/users/lockme')).locked, false);
    await assertAccessible(page);
  });

  test('users: bulk disable and move a selection', async () => {
    await page.goto(`${base}/ui/users`);
    await page.getByLabel('Select cleo').check();
    await page.getByLabel('Select dan').check();
    await page.locator('#f-bulk-action').selectOption('move');
    await page.locator('#f-bulk-group').selectOption('staff');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('2 user(s) moved to staff.').waitFor();
    assert.equal((await api.ok('GET', '/v1/admin/users/dan')).group, 'staff');
    await screenshot(page, 'users');
    await page.getByLabel('Select cleo').check();
    await page.locator('#f-bulk-action').selectOption('disable');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('1 user(s) disabled.').waitFor();
    assert.equal((await api.ok('GET', '/v1/admin/users/cleo')).enabled, false);
    await page.locator('#f-group').selectOption('staff');
    await page.locator('#f-status').selectOption('disabled');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/status=disabled/);
    assert.deepEqual(await page.locator('tbody tr td:nth-child(2)').allTextContents(), ['cleo']);
  });

  test('groups: the method policy is saved per group', async () => {
    await page.goto(`${base}/ui/groups`);
    await assertAccessible(page);
    await page.locator('#p-staff-hotp').selectOption('disabled');
    await page.getByRole('button', { name: 'Save policy of staff' }).click();
    await page.getByText('Method policy of staff saved.').waitFor();
    const groups = await api.ok('GET', '/v1/admin/groups');
    assert.deepEqual(groups.items.find((g: { name: string }) => g.name === 'staff').methods, {
      hotp: 'disabled',
    });
  });

  test('clients: the key is shown once, and a rotation replaces it', async () => {
    await page.goto(`${base}/ui/clients`);
    await page.getByLabel('Name').fill('vpn');
    await page.getByLabel('Allowed networks').fill('10.0.0.0/8, not-a-network');
    await page.getByRole('button', { name: 'Create client' }).click();
    await page.locator('#f-allowedCidrs-err').waitFor();
    assert.equal((await api.ok('GET', '/v1/admin/clients')).items.length, 2);
    await page.getByLabel('Allowed networks').fill('127.0.0.0/8');
    await page.getByRole('button', { name: 'Create client' }).click();
    const first = (await page.locator('#revealed').textContent())!.trim();
    await assertAccessible(page);
    assert.equal(
      (await api.call('POST', '/v1/validate', { user: 'bob', pass: '123456' }, first)).status,
      200,
    );
    await page.reload();
    assert.equal(await page.locator('#revealed').count(), 0);
    await page.getByRole('button', { name: 'Rotate key of vpn' }).click();
    const second = (await page.locator('#revealed').textContent())!.trim();
    assert.notEqual(second, first);
    assert.equal(
      (await api.call('POST', '/v1/validate', { user: 'bob', pass: '123456' }, first)).status,
      401,
    );
    assert.equal(
      (await api.call('POST', '/v1/validate', { user: 'bob', pass: '123456' }, second)).status,
      200,
    );
  });

  test('clients: challenge, method choice and allowed methods are saved per client', async () => {
    const vpn = (await api.ok('GET', '/v1/admin/clients')).items.find(
      (c: { name: string }) => c.name === 'vpn',
    );
    await page.goto(`${base}/ui/clients`);
    await page.locator(`#s-${vpn.id}-challenge`).selectOption('disabled');
    await page.locator(`#s-${vpn.id}-choice`).selectOption('default');
    await page.locator(`#s-${vpn.id}-m-totp`).check();
    await page.locator(`#s-${vpn.id}-m-hotp`).check();
    await page.getByRole('button', { name: 'Save sign-in methods of vpn' }).click();
    await page.getByText('Sign-in methods of vpn saved.').waitFor();
    await assertAccessible(page);
    const saved = await api.ok('GET', `/v1/admin/clients/${vpn.id}`);
    assert.deepEqual(
      [saved.challenge, saved.methodChoice, saved.allowedMethods],
      ['disabled', 'default', ['totp', 'hotp']],
    );
    await page.locator(`#s-${vpn.id}-m-totp`).uncheck();
    await page.locator(`#s-${vpn.id}-m-hotp`).uncheck();
    await page.locator(`#s-${vpn.id}-challenge`).selectOption('enabled');
    await submitAndSee(
      page,
      page.getByRole('button', { name: 'Save sign-in methods of vpn' }),
      'Sign-in methods of vpn saved.',
    );
    const cleared = await api.ok('GET', `/v1/admin/clients/${vpn.id}`);
    assert.deepEqual([cleared.challenge, 'allowedMethods' in cleared], ['enabled', false]);
  });

  test('settings, directory and cluster pages read and change what they show', async () => {
    await page.goto(`${base}/ui/settings`);
    await assertAccessible(page);
    await page.getByLabel('Failures before a lock').fill('zero');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.locator('#f-lockoutThreshold-err').waitFor();
    await page.getByLabel('Failures before a lock').fill('7');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Settings saved.').waitFor();
    assert.equal((await api.ok('GET', '/v1/admin/settings')).lockout.threshold, 7);
    await page.goto(`${base}/ui/directory`);
    await assertAccessible(page);
    await page.goto(`${base}/ui/cluster`);
    await page.getByRole('cell', { name: 'standalone' }).first().waitFor();
    await assertAccessible(page);
    await page.goto(`${base}/ui/accounts`);
    await assertAccessible(page);
  });

  test('logs: filtered, and exported as CSV', async () => {
    await page.goto(`${base}/ui/logs`);
    await page.getByLabel('Log', { exact: true }).selectOption('auth');
    await page.getByLabel('User').fill('lockme');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/user=lockme/);
    const results = await page.locator('tbody tr td:nth-child(5)').allTextContents();
    assert.ok(results.length >= 3 && results.every((r) => r === 'reject'), results.join());
    await assertAccessible(page);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export CSV' }).click(),
    ]);
    const csv = readFileSync((await download.path())!, 'utf8');
    const lines = csv.trim().split('\r\n');
    assert.equal(
      lines[0],
      'time,stream,type,actor,username,serial,result,reason,sourceIp,nasIdentifier,nasIpAddress,detail',
    );
    assert.ok(lines.length >= 4);
    assert.ok(
      lines.slice(1).every((l) => l.includes(',auth,validate,') && l.includes(',lockme,')),
      csv,
    );
  });
});
