// End to end: choosing a method on the Keycloak selection page (the tessera-otp jar in a real
// Keycloak, set up by `tessera keycloak setup`, against a real Tessera, driven by Chromium).
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../harness/browser.ts';
import { awaitFreshStep, hotpAt, totpNow } from '../harness/codes.ts';
import { buildExtension, type KeycloakHandle, startKeycloak } from '../harness/keycloak.ts';
import {
  clickAndLoad,
  createLoginRealm,
  passwordStep,
  type RelyingApp,
  startRelyingApp,
} from '../harness/keycloak-realm.ts';
import { Api, randomBase32, startTessera, type TesseraHandle } from '../harness/tessera.ts';

const REALM = 'tessera-choice';
const CLIENT_ID = 'choice-app';
const PASSWORD = 'correct horse battery staple';
const PIN = '4711';
const PROMPT = 'Code from your device';

let kc: KeycloakHandle;
let tessera: TesseraHandle;
let api: Api;
let app: RelyingApp | undefined;
let appUrl = '';
let testBrowser: TestBrowser | undefined;
let browser: BrowserContext;
const secrets: Record<string, { totp: string; hotp: string }> = {};

async function login(username: string): Promise<Page> {
  await browser.clearCookies();
  const page = await browser.newPage();
  await passwordStep(page, kc, { realm: REALM, clientId: CLIENT_ID, appUrl, password: PASSWORD }, username);
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

/** The labels of the selection page's method buttons, in order. */
async function menu(page: Page): Promise<string[]> {
  await page.locator('#tessera-methods button').first().waitFor({ timeout: 15_000 });
  return (await page.locator('#tessera-methods button').allTextContents()).map((t) => t.trim());
}

async function assertLoggedIn(page: Page): Promise<void> {
  await page.waitForURL((u) => u.toString().startsWith(`${appUrl}/cb`), { timeout: 30_000 });
  assert.ok(new URL(page.url()).searchParams.get('code'), page.url());
}

async function assertRefused(page: Page, text: string): Promise<void> {
  assert.ok(!page.url().startsWith(appUrl), `logged in although refused: ${page.url()}`);
  const body = (await page.locator('body').textContent()) ?? '';
  assert.ok(body.includes(text), `expected "${text}" on the page, got:\n${body.slice(0, 1500)}`);
}

describe('Keycloak method selection page (real Keycloak, real Tessera, Chromium)', {
  timeout: 600_000,
}, () => {
  beforeAll(async () => {
    const build = buildExtension();
    // One after the other: on a loaded machine two slow starts in parallel outrun their waits.
    tessera = await startTessera();
    kc = await startKeycloak({ providers: [build.jar], startTimeoutMs: 600_000 });
    api = new Api(tessera.url, tessera.adminKey);
    const apiKey = await api.createClient('keycloak', { challengeText: PROMPT });
    for (const [username, pin] of [
      ['erin', undefined],
      ['frank', PIN],
    ] as const) {
      const { secret } = await api.createUserWithTotp(username, {
        ...(pin ? { pin } : {}),
        token: { description: 'Phone <i>1</i>' },
      });
      const hotp = randomBase32();
      await api.ok('POST', `/v1/admin/users/${username}/tokens`, { type: 'hotp', secret: hotp });
      secrets[username] = { totp: secret, hotp };
    }
    app = await startRelyingApp();
    appUrl = app.url;
    await createLoginRealm(kc, {
      realm: REALM,
      clientId: CLIENT_ID,
      appUrl,
      password: PASSWORD,
      usernames: ['erin', 'frank'],
      tesseraUrl: tessera.url,
      apiKey,
    });
    testBrowser = await launchBrowser();
    browser = testBrowser.context;
  });

  afterAll(async () => {
    await testBrowser?.close();
    await tessera?.stop().catch(() => {});
    await kc?.stop();
    await app?.close();
  });

  it('no PIN: "choose another method" lists the methods; a pick asks for that code; a tampered pick is refused', async () => {
    const page = await login('erin');
    await click(page, '#tessera-choose');
    // Device names are shown as text, never as markup.
    assert.deepEqual(await menu(page), ['Authenticator app (Phone <i>1</i>)', 'Code token']);
    assert.equal(await page.locator('#tessera-methods i').count(), 0);
    // An attacker's pick that is not on the menu: refused with its own message, nothing started.
    await page
      .locator('#tessera-methods button')
      .nth(1)
      .evaluate((b) => b.setAttribute('value', '7'));
    await click(page, '#tessera-methods button >> nth=1');
    await assertRefused(page, 'That method is not on the list');
    await click(page, '#tessera-choose');
    await menu(page);
    await click(page, 'button[data-method="hotp"]');
    await page.locator('#tessera-prompt').waitFor();
    assert.equal(await page.locator('#tessera-prompt').textContent(), PROMPT);
    // The pick bound the login to the code token: the app's right code is refused there.
    await awaitFreshStep();
    await submitCode(page, totpNow(secrets.erin!.totp));
    await assertRefused(page, 'The one-time code is not valid');
    await click(page, '#tessera-choose');
    await click(page, 'button[data-method="hotp"]');
    await submitCode(page, hotpAt(secrets.erin!.hotp, 0));
    await assertLoggedIn(page);
    await page.close();
  });

  it('PIN alone opens the selection page; a code typed there signs in at once', async () => {
    await awaitFreshStep();
    const page = await login('frank');
    await submitCode(page, PIN);
    assert.equal((await menu(page)).length, 2);
    await submitCode(page, totpNow(secrets.frank!.totp));
    await assertLoggedIn(page);
    await page.close();
  });
});
