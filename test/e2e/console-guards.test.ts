// The console's guards as someone would hit them: a helpdesk account refused a page and an action
// of another role, forms without or with a stale token, a session that ended, sign-in throttling,
// a replayed code, cookies behind TLS, pages read with JavaScript off, and keyboard-only use.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { launchBrowser, type TestBrowser } from '../harness/browser.ts';
import { Api, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';
import { assertAccessible, freshCode, signIn } from './console-support.ts';

let node: TesseraHandle;
let api: Api;
let browser: TestBrowser;
let base = '';
let adminPassword = '';
let adminSeed = '';
const HELPDESK_PASSWORD = 'helpdesk password 2026';

const others: TestBrowser[] = [];

/** A page in a browser of its own: its own cookie jar, as another person's. */
async function otherPerson(options: Parameters<typeof launchBrowser>[0] = {}): Promise<Page> {
  const b = await launchBrowser({ viewport: { width: 1280, height: 900 }, ...options });
  others.push(b);
  return b.context.newPage();
}

describe('console: guards', () => {
  let admin: Page;
  beforeAll(async () => {
    // Trusting loopback as a proxy lets a test say "this request came over TLS".
    node = await startTessera({ env: { TESSERA_TRUST_PROXY: '127.0.0.1' } });
    base = node.url;
    api = new Api(node.url, node.adminKey);
    const made = await runCli(['console', 'add-admin', '--username', 'boss'], {
      TESSERA_DATA_DIR: node.dataDir,
    });
    assert.equal(made.code, 0, made.err);
    adminPassword = made.out.trim();
    await api.createUserWithTotp('frank');
    browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
    admin = await browser.context.newPage();
    adminSeed = await signIn(admin, base, 'boss', adminPassword);
  });
  afterAll(async () => {
    for (const b of others) await b.close();
    await browser?.close();
    await node?.stop();
  });

  test("a helpdesk account sees its pages only; another role's page and action get a clear refusal", async () => {
    await admin.goto(`${base}/ui/accounts`);
    await admin.getByLabel('Username').fill('hd');
    await admin.getByLabel('Role').selectOption('helpdesk');
    await admin.getByLabel('Initial password').fill('short');
    await admin.getByRole('button', { name: 'Create account' }).click();
    await admin.locator('#f-password-err').waitFor();
    await admin.getByLabel('Initial password').fill(HELPDESK_PASSWORD);
    await admin.getByRole('button', { name: 'Create account' }).click();
    await admin.getByText(/Console account hd created/).waitFor();

    const hd = await otherPerson();
    await signIn(hd, base, 'hd', HELPDESK_PASSWORD);
    const nav = await hd.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    assert.deepEqual(nav, ['Dashboard', 'Users', 'Groups', 'Settings', 'Cluster']);
    const refused = await hd.goto(`${base}/ui/clients`);
    assert.equal(refused?.status(), 403);
    await hd.getByRole('heading', { name: 'Not open to your role' }).waitFor();
    assert.match((await hd.locator('.notice').textContent()) ?? '', /helpdesk.*clients:read/);
    await assertAccessible(hd);
    // an action: the settings page shows no form to a helpdesk, and a forged POST is refused
    await hd.goto(`${base}/ui/settings`);
    assert.equal(await hd.getByRole('button', { name: 'Save settings' }).count(), 0);
    const csrf = await hd.locator('input[name=_csrf]').first().inputValue();
    const forged = await hd.request.post(`${base}/ui/settings`, {
      form: {
        _csrf: csrf,
        issuer: 'Hijacked',
        newUserMode: 'manual',
        unknownUserPolicy: 'passthrough',
        lockoutThreshold: '1',
        throttleFailures: '0',
      },
      maxRedirects: 0,
    });
    assert.equal(forged.status(), 403);
    assert.match(await forged.text(), /Not open to your role/);
    assert.equal((await api.ok('GET', '/v1/admin/settings')).issuer, 'Tessera');
    const audit = await api.ok('GET', '/v1/admin/audit?stream=admin&limit=50');
    assert.ok(
      audit.items.some(
        (e: { type: string; actor: string }) => e.type === 'admin.denied' && e.actor === 'console:hd',
      ),
    );
    // what a helpdesk may do, it does: unlock frank
    await hd.goto(`${base}/ui/users/frank`);
    assert.equal(await hd.getByRole('link', { name: 'Enrol a token' }).count(), 1);
  });

  test('a form without its token, or with a stale one, changes nothing and says why', async () => {
    await admin.goto(`${base}/ui/users/frank`);
    const missing = await admin.request.post(`${base}/ui/users/frank/disable`, { form: {}, maxRedirects: 0 });
    assert.equal(missing.status(), 403);
    assert.match(await missing.text(), /Form expired/);
    const stale = await admin.request.post(`${base}/ui/users/frank/disable`, {
      form: { _csrf: 'x'.repeat(32) },
      maxRedirects: 0,
    });
    assert.equal(stale.status(), 403);
    assert.equal((await api.ok('GET', '/v1/admin/users/frank')).enabled, true);
    const signInWithout = await admin.request.post(`${base}/ui/signin`, {
      form: { username: 'boss', password: adminPassword },
      maxRedirects: 0,
    });
    assert.equal(signInWithout.status(), 403);
  });

  test('bad form bodies are refused with a page, never a 500 and never a half-made record', async () => {
    await admin.goto(`${base}/ui/users/new`);
    const csrf = await admin.locator('input[name=_csrf]').first().inputValue();
    const bodies: Record<string, string>[] = [
      { username: 'x'.repeat(500) },
      { username: 'ok-name', group: 'no-such-group' },
      { username: 'ok-name', pin: '12' },
      { username: 'ok-name', extra: 'field' },
      { username: '\u202e' },
    ];
    for (const form of bodies) {
      const r = await admin.request.post(`${base}/ui/users`, {
        form: { _csrf: csrf, ...form },
        maxRedirects: 0,
      });
      assert.equal(r.status(), 400, JSON.stringify(form));
      assert.match(r.headers()['content-type'] ?? '', /text\/html/);
    }
    assert.equal((await api.call('GET', '/v1/admin/users/ok-name')).status, 404);
    const enrol = await admin.request.post(`${base}/ui/users/frank/tokens`, {
      form: { _csrf: csrf, type: 'yubikey', algorithm: 'MD5', digits: '7', period: '15' },
      maxRedirects: 0,
    });
    assert.equal(enrol.status(), 400);
    assert.equal((await api.ok('GET', '/v1/admin/users/frank')).tokens.length, 1);
  });

  test('a session that ended gets a clear page, and a code is good once', async () => {
    const p = await otherPerson();
    await signIn(p, base, 'boss', adminPassword, adminSeed);
    const cookie = (await p.context().cookies(`${base}/ui/`)).find((c) => c.name === 'tessera_console')!;
    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.waitForURL(/\/ui\/signin$/);
    await p.context().addCookies([{ ...cookie }]);
    const r = await p.goto(`${base}/ui/users`);
    assert.equal(r?.status(), 401);
    await p.getByRole('heading', { name: 'Session expired' }).waitFor();
    await assertAccessible(p);
    // the code just used does not sign in again
    await p.goto(`${base}/ui/signin`);
    await p.getByLabel('Username').fill('boss');
    await p.getByLabel('Password').fill(adminPassword);
    await p.getByRole('button', { name: 'Continue' }).click();
    await p.waitForURL(/\/ui\/signin\/code$/);
    const { base32Decode, timeStep, totpAt } = await import('../../src/otp/index.ts');
    const used = totpAt(
      { secret: base32Decode(adminSeed)!, algorithm: 'SHA1', digits: 6, period: 30 },
      timeStep(Date.now(), 30),
    );
    await p.getByLabel('Code').fill(used);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByText('The username, password or code is not right.').waitFor();
  });

  test('sign-in attempts are throttled: after five wrong passwords even the right one waits', async () => {
    const made = await runCli(['console', 'add-admin', '--username', 'target', '--role', 'auditor'], {
      TESSERA_DATA_DIR: node.dataDir,
    });
    const password = made.out.trim();
    const p = await otherPerson();
    for (let i = 0; i < 5; i++) {
      await p.goto(`${base}/ui/signin`);
      await p.getByLabel('Username').fill('target');
      await p.getByLabel('Password').fill(`wrong password ${i}`);
      await p.getByRole('button', { name: 'Continue' }).click();
      await p.getByText('The username, password or code is not right.').waitFor();
    }
    await p.getByLabel('Username').fill('target');
    await p.getByLabel('Password').fill(password);
    await p.getByRole('button', { name: 'Continue' }).click();
    await p.getByText(/Too many attempts/).waitFor();
  });

  test('behind TLS (a trusted proxy says https) the session cookie is Secure', async () => {
    const pre = await fetch(`${base}/ui/signin`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.match(pre.headers.get('set-cookie') ?? '', /; Secure/);
    const plain = await fetch(`${base}/ui/signin`);
    assert.doesNotMatch(plain.headers.get('set-cookie') ?? '', /; Secure/);
    assert.match(plain.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(plain.headers.get('cache-control'), 'no-store');
  });

  test('with JavaScript off the pages read and the forms work', async () => {
    const p = await otherPerson({ javaScriptEnabled: false });
    await signIn(p, base, 'boss', adminPassword, adminSeed);
    await p.goto(`${base}/ui/users`);
    await p.getByRole('link', { name: 'frank' }).click();
    await p.getByRole('heading', { name: 'User frank' }).waitFor();
    await p.getByRole('button', { name: 'Disable user' }).click();
    await p.getByText('User disabled').waitFor();
    await p.getByRole('button', { name: 'Enable user' }).click();
    await p.getByText('User enabled.').waitFor();
    assert.equal((await api.ok('GET', '/v1/admin/users/frank')).enabled, true);
  });

  test('keyboard only: sign in, find a user, unlock it', async () => {
    const clientKey = await api.createClient('api');
    for (let i = 0; i < 3; i++)
      await api.call('POST', '/v1/validate', { user: 'frank', pass: '000000' }, clientKey);
    const p = await otherPerson();
    await p.goto(`${base}/ui/signin`);
    // the username field has the focus when the page opens
    assert.equal(await p.evaluate(() => document.activeElement?.id), 'f-username');
    await p.keyboard.type('boss');
    await p.keyboard.press('Tab');
    await p.keyboard.type(adminPassword);
    await p.keyboard.press('Enter');
    await p.waitForURL(/\/ui\/signin\/code$/);
    await p.keyboard.type(await freshCode(adminSeed)); // the code field has the focus
    await p.keyboard.press('Enter');
    await p.waitForURL(/\/ui\/$/);
    await p.goto(`${base}/ui/users`);
    await p.getByLabel('Username starts with').focus();
    await p.keyboard.type('fra');
    await p.keyboard.press('Enter');
    await p.waitForURL(/q=fra/);
    // walk the focus to the user's link as Tab would
    for (let i = 0; i < 40; i++) {
      await p.keyboard.press('Tab');
      if ((await p.evaluate(() => document.activeElement?.textContent?.trim())) === 'frank') break;
    }
    await p.keyboard.press('Enter');
    await p.waitForURL(/\/ui\/users\/frank$/);
    for (let i = 0; i < 40; i++) {
      await p.keyboard.press('Tab');
      if ((await p.evaluate(() => document.activeElement?.textContent?.trim())) === 'Reset failures') break;
    }
    await p.keyboard.press('Enter');
    await p.getByText('Failure count reset.').waitFor();
    assert.equal((await api.ok('GET', '/v1/admin/users/frank')).failures, 0);
  });
});
