// A YubiKey at the Keycloak code form: the tessera-otp jar in a real Keycloak, Chromium types the
// OTP (made by Debian's ykgenerate) into the `otp` field, as the key would.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../harness/browser.ts';
import { buildExtension, type KeycloakHandle, startKeycloak } from '../harness/keycloak.ts';
import {
  clickAndLoad,
  createLoginRealm,
  passwordStep,
  type RelyingApp,
  startRelyingApp,
} from '../harness/keycloak-realm.ts';
import { Api, startTessera, type TesseraHandle } from '../harness/tessera.ts';
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
  let app: RelyingApp | undefined;
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

    app = await startRelyingApp();
    appUrl = app.url;
    await createLoginRealm(kc, {
      realm: REALM,
      clientId: CLIENT_ID,
      appUrl,
      password: PASSWORD,
      usernames: [USERNAME],
      tesseraUrl: tessera.url,
      apiKey,
    });
    testBrowser = await launchBrowser();
  });

  afterAll(async () => {
    await testBrowser?.close();
    await tessera?.stop().catch(() => {});
    await kc?.stop();
    await app?.close();
  });

  async function codeForm(): Promise<Page> {
    assert.ok(testBrowser);
    await testBrowser.context.clearCookies();
    const page = await testBrowser.context.newPage();
    await passwordStep(page, kc, { realm: REALM, clientId: CLIENT_ID, appUrl, password: PASSWORD }, USERNAME);
    await page.locator('input[name="otp"]').waitFor({ timeout: 30_000 });
    return page;
  }

  /** Types the OTP key by key, as the YubiKey (a USB keyboard) does, and presses Enter. */
  async function typeOtp(page: Page, otp: string): Promise<void> {
    await page.locator('input[name="otp"]').pressSequentially(otp);
    await clickAndLoad(page, 'input[name="otp"]', 'Enter');
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
