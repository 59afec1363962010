// End to end: the Keycloak push waiting page (the tessera-otp jar in a real Keycloak, set up by
// `tessera keycloak setup`, against a real Tessera, driven by Chromium), the phone simulated by a
// Node client that pairs and signs its requests as the authenticator app does.
import assert from 'node:assert/strict';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../harness/browser.ts';
import { awaitFreshStep, totpNow } from '../harness/codes.ts';
import { DeviceClient, fetchTransport } from '../harness/device-client.ts';
import { buildExtension, type KeycloakHandle, startKeycloak } from '../harness/keycloak.ts';
import {
  clickAndLoad,
  createLoginRealm,
  passwordStep,
  type RelyingApp,
  startRelyingApp,
} from '../harness/keycloak-realm.ts';
import { Api, type Json, startTessera, type TesseraHandle } from '../harness/tessera.ts';

const REALM = 'tessera-push';
const CLIENT_ID = 'push-app';
const PASSWORD = 'correct horse battery staple';
const USERS = ['kp-approve', 'kp-deny', 'kp-code', 'kp-expire'] as const;

let kc: KeycloakHandle;
let api: Api;
let tessera: TesseraHandle;
let app: RelyingApp | undefined;
let appUrl = '';
let testBrowser: TestBrowser | undefined;
let browser: BrowserContext;
const phones: Record<string, DeviceClient> = {};

/** Problems the page reported: CSP refusals, uncaught errors, and the poll script failing to load. */
function watchProblems(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) seen.push(m.text());
  });
  page.on('pageerror', (e) => seen.push(e.message));
  page.on('response', (r) => {
    if (r.url().endsWith('/tessera-push.js') && r.status() !== 200) seen.push(`${r.url()}: ${r.status()}`);
  });
  return seen;
}

/** Password, then "choose another method": the user's one token is a phone, so a push starts. */
async function loginToPushPage(username: string): Promise<{ page: Page; problems: string[] }> {
  await browser.clearCookies();
  const page = await browser.newPage();
  const problems = watchProblems(page);
  await passwordStep(page, kc, { realm: REALM, clientId: CLIENT_ID, appUrl, password: PASSWORD }, username);
  await page.locator('#tessera-choose').waitFor({ timeout: 30_000 });
  await clickAndLoad(page, '#tessera-choose');
  await page.locator('#kc-tessera-push-poll').waitFor({ timeout: 30_000 });
  return { page, problems };
}

/** The push the phone sees for this login (it arrives over the store, so poll briefly). */
async function pushFor(username: string): Promise<Json> {
  for (let i = 0; i < 200; i++) {
    const list = await phones[username]!.pushes();
    assert.equal(list.status, 200, JSON.stringify(list.body));
    if (list.body.items.length > 0) return list.body.items.at(-1);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no push for ${username}`);
}

async function assertLoggedIn(page: Page): Promise<void> {
  await page.waitForURL((u) => u.toString().startsWith(`${appUrl}/cb`), { timeout: 30_000 });
  assert.ok(new URL(page.url()).searchParams.get('code'), page.url());
}

describe('Keycloak push waiting page (real Keycloak, real Tessera, Chromium, simulated phone)', {
  timeout: 900_000,
}, () => {
  beforeAll(async () => {
    const build = buildExtension();
    // One after the other: on a loaded machine two slow starts in parallel outrun their waits.
    tessera = await startTessera();
    kc = await startKeycloak({ providers: [build.jar], startTimeoutMs: 600_000 });
    api = new Api(tessera.url, tessera.adminKey);
    const apiKey = await api.createClient('keycloak');
    for (const username of USERS) {
      await api.ok('POST', '/v1/admin/users', { username });
      const enrol = await api.ok('POST', `/v1/admin/users/${username}/tokens`, { type: 'push' });
      const phone = await DeviceClient.create(fetchTransport(tessera.url));
      assert.equal((await phone.pair(enrol.pairing.pairingToken)).status, 201);
      phones[username] = phone;
    }
    app = await startRelyingApp();
    appUrl = app.url;
    await createLoginRealm(kc, {
      realm: REALM,
      clientId: CLIENT_ID,
      appUrl,
      password: PASSWORD,
      usernames: USERS,
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

  it('approve with the number shown: the waiting page completes by itself, once', async () => {
    const { page, problems } = await loginToPushPage('kp-approve');
    const shown = Number(await page.locator('#tessera-push-number').textContent());
    const push = await pushFor('kp-approve');
    assert.equal(push.numberMatching, true);
    assert.ok(push.numbers.includes(shown), `${shown} not among ${push.numbers}`);
    // The page keeps polling while the phone has not answered: still waiting after a few rounds,
    // and the polls did not start new pushes.
    await new Promise((r) => setTimeout(r, 5000));
    assert.ok(!page.url().startsWith(appUrl), page.url());
    assert.deepEqual(
      (await phones['kp-approve']!.pushes()).body.items.map((p: Json) => p.id),
      [push.id],
    );
    const answer = await phones['kp-approve']!.answer(push.id, { decision: 'approve', number: shown });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    // No click: the page's own poll completes the login.
    await assertLoggedIn(page);
    assert.deepEqual(problems, []);
    // The approved push was spent by this login: the phone has nothing pending.
    assert.deepEqual((await phones['kp-approve']!.pushes()).body.items, []);
    await page.close();
  });

  it('deny on the phone: the waiting page says so by itself, and the login is not completed', async () => {
    const { page, problems } = await loginToPushPage('kp-deny');
    const push = await pushFor('kp-deny');
    assert.equal((await phones['kp-deny']!.answer(push.id, { decision: 'deny' })).status, 200);
    await page.getByText('The sign-in was denied on your phone').waitFor({ timeout: 30_000 });
    assert.ok(!page.url().startsWith(appUrl), page.url());
    assert.equal(await page.locator('#kc-tessera-push-poll').count(), 0, 'the waiting page is gone');
    // Starting again sends a new push.
    await clickAndLoad(page, '#tessera-choose');
    await page.locator('#kc-tessera-push-poll').waitFor({ timeout: 30_000 });
    const again = await pushFor('kp-deny');
    assert.notEqual(again.id, push.id);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('"use a code instead": the paired phone\'s offline code signs in; a wrong code does not', async () => {
    const { page } = await loginToPushPage('kp-code');
    const phone = phones['kp-code']!;
    await awaitFreshStep();
    const wrong = String((Number(totpNow(phone.totpSecret)) + 1) % 1_000_000).padStart(6, '0');
    await page.locator('#otp').fill(wrong);
    await clickAndLoad(page, '#tessera-push-use-code');
    await page.getByText('The one-time code is not valid').waitFor({ timeout: 30_000 });
    assert.ok(!page.url().startsWith(appUrl), page.url());
    // A wrong code spent the transaction: start again, then the right code.
    await clickAndLoad(page, '#tessera-choose');
    await page.locator('#kc-tessera-push-poll').waitFor({ timeout: 30_000 });
    await awaitFreshStep();
    await page.locator('#otp').fill(totpNow(phone.totpSecret));
    await clickAndLoad(page, '#tessera-push-use-code');
    await assertLoggedIn(page);
    await page.close();
  });

  it('a push nobody answers expires: the waiting page says so by itself', async () => {
    // Last case: the shortest push lifetime the settings allow, for every push from now on.
    await api.ok('PATCH', '/v1/admin/settings', { push: { timeoutSeconds: 10 } });
    const { page, problems } = await loginToPushPage('kp-expire');
    const push = await pushFor('kp-expire');
    assert.equal(push.expiresAt - push.createdAt, 10_000, JSON.stringify(push));
    await page.getByText('The sign-in was not approved in time').waitFor({ timeout: 45_000 });
    assert.ok(!page.url().startsWith(appUrl), page.url());
    // A late approve is refused by the server, and the login stays where it is.
    assert.equal((await phones['kp-expire']!.answer(push.id, { decision: 'approve' })).status, 409);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
