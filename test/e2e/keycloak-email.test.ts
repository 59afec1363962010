// End to end: a mail code through Keycloak's selection page (the tessera-otp jar in a real Keycloak,
// a real Tessera mailing through a real SMTP listener, driven by Chromium). Few cases: it is slow.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../harness/browser.ts';
import { buildExtension, type KeycloakHandle, startKeycloak } from '../harness/keycloak.ts';
import { clickAndLoad } from '../harness/keycloak-realm.ts';
import { freePort } from '../harness/ports.ts';
import { type SmtpHandle, smtpEnv, startSmtp } from '../harness/smtp.ts';
import { Api, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';

const REALM = 'tessera-mail';
const CLIENT_ID = 'mail-app';
const PASSWORD = 'correct horse battery staple';
const USER = 'gina';
const ADDRESS = 'gina@example.test';

let kc: KeycloakHandle;
let tessera: TesseraHandle;
let smtp: SmtpHandle;
let app: Server | undefined;
let appUrl = '';
let testBrowser: TestBrowser | undefined;
let browser: BrowserContext;

async function login(): Promise<Page> {
  await browser.clearCookies();
  const page = await browser.newPage();
  const auth = new URL(`${kc.url}/realms/${REALM}/protocol/openid-connect/auth`);
  for (const [k, v] of Object.entries({
    client_id: CLIENT_ID,
    redirect_uri: `${appUrl}/cb`,
    response_type: 'code',
    scope: 'openid',
  }))
    auth.searchParams.set(k, v);
  await page.goto(auth.toString());
  await page.locator('#username').fill(USER);
  await page.locator('#password').fill(PASSWORD);
  await clickAndLoad(page, '#kc-login');
  await page.locator('input[name="otp"]').waitFor({ timeout: 30_000 });
  return page;
}

async function click(page: Page, selector: string): Promise<void> {
  await clickAndLoad(page, selector);
}

async function submitCode(page: Page, code: string): Promise<void> {
  await page.locator('input[name="otp"]').fill(code);
  await click(page, '#kc-login');
}

async function mailedCode(after: number): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const mail = smtp.mails.slice(after).find((m) => m.to.includes(ADDRESS));
    const code = mail && /is (\d{6})/.exec(mail.text)?.[1];
    if (code) return code;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no code mailed');
}

describe('Keycloak: a code by mail (real Keycloak, Tessera, SMTP listener, Chromium)', {
  timeout: 600_000,
}, () => {
  beforeAll(async () => {
    const build = buildExtension();
    smtp = await startSmtp();
    tessera = await startTessera({ env: smtpEnv(smtp) });
    kc = await startKeycloak({ providers: [build.jar], startTimeoutMs: 600_000 });
    const api = new Api(tessera.url, tessera.adminKey);
    const apiKey = await api.createClient('keycloak', { challengeText: 'Code from your app' });
    await api.createUserWithTotp(USER, { user: { email: ADDRESS } });
    await api.ok('POST', `/v1/admin/users/${USER}/tokens`, { type: 'email' });
    const port = await freePort();
    appUrl = `http://127.0.0.1:${port}`;
    app = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>in</h1>'));
    await new Promise<void>((r) => app!.listen(port, '127.0.0.1', r));
    const c = new KcAdminClient({ baseUrl: kc.url, realmName: 'master' });
    await c.auth({
      grantType: 'password',
      clientId: 'admin-cli',
      username: kc.adminUser,
      password: kc.adminPassword,
    });
    await c.realms.create({ realm: REALM, enabled: true, sslRequired: 'none' });
    c.setConfig({ realmName: REALM });
    await c.users.create({
      username: USER,
      enabled: true,
      email: ADDRESS,
      emailVerified: true,
      firstName: 'Gina',
      lastName: 'Example',
      credentials: [{ type: 'password', value: PASSWORD, temporary: false }],
    });
    await c.clients.create({
      clientId: CLIENT_ID,
      publicClient: true,
      standardFlowEnabled: true,
      redirectUris: [`${appUrl}/cb`],
    });
    const setup = await runCli(
      [
        'keycloak',
        'setup',
        ...['--keycloak-url', kc.url, '--realm', REALM, '--admin-user', kc.adminUser],
        ...['--admin-password', kc.adminPassword, '--tessera-url', tessera.url, '--api-key', apiKey],
      ],
      {},
    );
    assert.equal(setup.code, 0, setup.err);
    testBrowser = await launchBrowser();
    browser = testBrowser.context;
  });

  afterAll(async () => {
    await testBrowser?.close();
    await tessera?.stop().catch(() => {});
    await kc?.stop();
    await smtp?.close();
    await new Promise<void>((r) => (app ? app.close(() => r()) : r()));
  });

  it('picking "Email" mails a code; the page says where it went; the code signs in, a wrong one does not', async () => {
    let page = await login();
    await click(page, '#tessera-choose');
    let mails = smtp.mails.length;
    await click(page, 'button[data-method="email"]');
    await page.locator('#tessera-prompt').waitFor();
    assert.match(
      (await page.locator('#tessera-prompt').textContent()) ?? '',
      /A code was sent to g\*\*\*@example\.test/,
    );
    const first = await mailedCode(mails);
    await submitCode(page, first === '000000' ? '000001' : '000000');
    const body = (await page.locator('body').textContent()) ?? '';
    assert.ok(body.includes('The one-time code is not valid'), body.slice(0, 1000));
    await page.close();

    page = await login();
    await click(page, '#tessera-choose');
    mails = smtp.mails.length;
    await click(page, 'button[data-method="email"]');
    await page.locator('#tessera-prompt').waitFor();
    await submitCode(page, await mailedCode(mails));
    await page.waitForURL((u) => u.toString().startsWith(`${appUrl}/cb`), { timeout: 30_000 });
    assert.ok(new URL(page.url()).searchParams.get('code'), page.url());
    await page.close();
  });
});
