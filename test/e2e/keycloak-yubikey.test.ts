// A YubiKey at the Keycloak code form: the tessera-otp jar in a real Keycloak, Chromium types the
// OTP (made by Debian's ykgenerate) into the `otp` field, as the key would.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../harness/browser.ts';
import { buildExtension, type KeycloakHandle, startKeycloak } from '../harness/keycloak.ts';
import { freePort } from '../harness/ports.ts';
import { Api, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';
import { ensureYkgenerate, newTestYubikey, ykgenerate } from '../harness/ykgenerate.ts';

const REALM = 'tessera-yubikey';
const CLIENT_ID = 'yk-app';
const USERNAME = 'yuki';
const PASSWORD = 'correct horse battery staple';
// keycloak-extension/src/main/resources/theme-resources/messages/messages_en.properties
const MSG_REUSED = 'This code has already been used';
const MSG_INVALID = 'The one-time code is not valid';

describe('Keycloak: a YubiKey OTP typed into the code form', { timeout: 600_000 }, () => {
  const key = newTestYubikey();
  let kc: KeycloakHandle;
  let tessera: TesseraHandle;
  let app: Server | undefined;
  let appUrl = '';
  let testBrowser: TestBrowser | undefined;

  beforeAll(async () => {
    ensureYkgenerate();
    const build = buildExtension();
    [kc, tessera] = await Promise.all([startKeycloak({ providers: [build.jar] }), startTessera()]);
    const api = new Api(tessera.url, tessera.adminKey);
    const apiKey = await api.createClient('keycloak');
    await api.ok('POST', '/v1/admin/users', { username: USERNAME });
    await api.ok('POST', `/v1/admin/users/${USERNAME}/tokens`, { type: 'yubikey', ...key });

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
    c.setConfig({ realmName: REALM });
    await c.realms.create({ realm: REALM, enabled: true, sslRequired: 'none' });
    await c.users.create({
      username: USERNAME,
      enabled: true,
      email: `${USERNAME}@example.org`,
      emailVerified: true,
      firstName: 'Yuki',
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
  });

  afterAll(async () => {
    await testBrowser?.close();
    await tessera?.stop().catch(() => {});
    await kc?.stop();
    await new Promise<void>((r) => (app ? app.close(() => r()) : r()));
  });

  async function codeForm(): Promise<Page> {
    assert.ok(testBrowser);
    await testBrowser.context.clearCookies();
    const page = await testBrowser.context.newPage();
    const auth = new URL(`${kc.url}/realms/${REALM}/protocol/openid-connect/auth`);
    for (const [k, v] of Object.entries({
      client_id: CLIENT_ID,
      redirect_uri: `${appUrl}/cb`,
      response_type: 'code',
      scope: 'openid',
    }))
      auth.searchParams.set(k, v);
    await page.goto(auth.toString());
    await page.locator('#username').fill(USERNAME);
    await page.locator('#password').fill(PASSWORD);
    await Promise.all([page.waitForLoadState('load'), page.locator('#kc-login').click()]);
    await page.locator('input[name="otp"]').waitFor({ timeout: 30_000 });
    return page;
  }

  /** Types the OTP key by key, as the YubiKey (a USB keyboard) does, and presses Enter. */
  async function typeOtp(page: Page, otp: string): Promise<void> {
    await page.locator('input[name="otp"]').pressSequentially(otp);
    await Promise.all([page.waitForLoadState('load'), page.locator('input[name="otp"]').press('Enter')]);
  }

  async function refusedWith(page: Page, text: string): Promise<void> {
    assert.ok(!page.url().startsWith(appUrl), `logged in although refused: ${page.url()}`);
    await page.locator('input[name="otp"]').waitFor({ timeout: 10_000 });
    const body = (await page.locator('body').textContent()) ?? '';
    assert.ok(body.includes(text), `expected "${text}" on the page, got:\n${body.slice(0, 1500)}`);
  }

  it('the OTP logs in; the same OTP again, or an older one, is refused', async () => {
    const first = ykgenerate(key, 7, 0);
    const page = await codeForm();
    await typeOtp(page, ykgenerate({ ...newTestYubikey(), publicId: key.publicId }, 7, 0));
    await refusedWith(page, MSG_INVALID);
    await typeOtp(page, first);
    await page.waitForURL((u) => u.toString().startsWith(`${appUrl}/cb`), { timeout: 30_000 });
    assert.ok(new URL(page.url()).searchParams.get('code'), 'an authorization code');
    await page.close();

    for (const otp of [first, ykgenerate(key, 6, 9)]) {
      const again = await codeForm();
      await typeOtp(again, otp);
      await refusedWith(again, MSG_REUSED);
      await again.close();
    }
  });
});
