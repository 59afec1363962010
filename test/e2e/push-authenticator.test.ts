// The push loop as people use it: the portal on a laptop (one Chromium), the authenticator app on a
// phone-sized second Chromium with a platform authenticator (CDP virtual authenticator), and the
// login over RADIUS (FreeRADIUS + radclient). Every wait is bounded.
import assert from 'node:assert/strict';
import jsqr from 'jsqr';
import type { CDPSession, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { accessibilityProblems, launchBrowser, type TestBrowser } from '../harness/browser.ts';
import { awaitFreshStep, totpNow } from '../harness/codes.ts';
import { DeviceClient, fetchTransport } from '../harness/device-client.ts';
import { type FreeRadiusHandle, startFreeRadius } from '../harness/freeradius.ts';
import { freePort } from '../harness/ports.ts';
import { radAuth } from '../harness/radclient.ts';
import { Api, startTessera, type TesseraHandle } from '../harness/tessera.ts';

const PHONE = { width: 390, height: 844 };
const PIN = '4711';
const jsQR = (jsqr as unknown as { default: typeof jsqr.default }).default ?? jsqr;

async function scanQr(page: Page): Promise<string> {
  const png = PNG.sync.read(await page.locator('#qr svg').screenshot());
  const found = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  assert.ok(found, 'the QR code on the page decodes');
  return found.data;
}

const stepNow = () => Math.floor(Date.now() / 30_000);
/**
 * Waits into a later TOTP step than `step` (a step's code is accepted once per token), and past
 * the app's next redraw (once a second) of its code.
 */
async function stepAfter(step: number): Promise<void> {
  const wait = (step + 1) * 30_000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait + 1500));
}

async function clean(page: Page, where: string): Promise<void> {
  assert.deepEqual(await accessibilityProblems(page), [], `axe-core on ${where}`);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= page.viewportSize()!.width, `${where} is ${width}px wide`);
}

/** Problems the page reported: CSP refusals and uncaught errors. */
function watchProblems(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) seen.push(m.text());
  });
  page.on('pageerror', (e) => seen.push(e.message));
  return seen;
}

describe('push approval end to end: portal, authenticator app and RADIUS in Chromium', () => {
  let node: TesseraHandle;
  let admin: Api;
  let fr: FreeRadiusHandle;
  let laptop: TestBrowser;
  let phone: TestBrowser;
  let portal: Page;
  let app: Page;
  let cdp: CDPSession;
  let authenticatorId = '';
  let appProblems: string[] = [];
  let base = '';
  let nodeEnv: Record<string, string> = {};
  let radiusClientId = '';
  let serial = '';
  let oldSecret = '';
  let temporaryCode = '';
  /** The last TOTP step a code of ana's device was accepted in. */
  let usedStep = 0;

  beforeAll(async () => {
    // WebAuthn needs a host name, not an address: the whole test talks to localhost
    const port = await freePort();
    base = `http://localhost:${port}`;
    nodeEnv = { TESSERA_PORTAL_URL: `${base}/portal/` };
    node = await startTessera({ port, env: nodeEnv });
    admin = new Api(node.url, node.adminKey);
    const radius = await admin.ok('POST', '/v1/admin/clients', {
      name: 'vpn',
      kind: 'radius',
      rejectDetail: 'reason',
    });
    radiusClientId = radius.id;
    fr = await startFreeRadius({ tesseraUrl: node.url, apiKey: radius.apiKey });
    const ana = await admin.createUserWithTotp('ana', { pin: PIN, token: { description: 'Old phone' } });
    serial = ana.serial;
    oldSecret = ana.secret;
    // the portal sign-in uses a helpdesk code, so the device's codes are the test's to spend
    temporaryCode = (await admin.ok('POST', '/v1/admin/users/ana/temporary-code', {})).code;
    [laptop, phone] = await Promise.all([
      launchBrowser(),
      launchBrowser({ viewport: PHONE, isMobile: true, hasTouch: true }),
    ]);
    portal = await laptop.context.newPage();
    app = await phone.context.newPage();
    appProblems = watchProblems(app);
    cdp = await phone.context.newCDPSession(app);
    await cdp.send('WebAuthn.enable');
    const added = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    authenticatorId = added.authenticatorId;
  });

  afterAll(async () => {
    await laptop?.close();
    await phone?.close();
    await fr?.stop();
    await node?.stop();
  });

  const radius = (attrs: Record<string, string | { raw: string }>) =>
    radAuth({ port: fr.port, secret: fr.secret }, { 'User-Name': 'ana', ...attrs });

  /** Push settings through the admin API, then the node restarts: the app must reconnect by itself. */
  async function restartWithPushSettings(push: Record<string, unknown>): Promise<void> {
    await admin.ok('PATCH', '/v1/admin/settings', { push });
    await node.stop({ keepData: true });
    node = await startTessera({ port: node.port, dataDir: node.dataDir, env: nodeEnv });
    admin = new Api(node.url, node.adminKey);
  }

  /** The code the app shows now. */
  const appCode = async () => {
    const shown = app.locator('#totp-code');
    await shown.and(app.locator('[data-code]')).waitFor();
    return (await shown.getAttribute('data-code')) ?? '';
  };

  test('an offline device rescanned by the app goes online in place; its codes work until the phone pairs', async () => {
    await portal.goto(`${base}/portal/`);
    await portal.getByLabel('Username').fill('ana');
    await portal.getByLabel(/Password or PIN/).fill(PIN);
    await portal.getByLabel('Code').fill(temporaryCode);
    await portal.getByRole('button', { name: 'Sign in' }).click();
    await portal.getByRole('heading', { name: 'My devices' }).waitFor();
    assert.match((await portal.locator('.device .registration').textContent()) ?? '', /offline/);

    await portal.getByText('Manage Old phone').click();
    await portal.getByRole('button', { name: 'Rescan device (go online)' }).click();
    const status = portal.getByRole('status').filter({ hasText: 'Waiting for the phone to scan' });
    await status.waitFor();
    await clean(portal, 'the pairing page');
    const link = await scanQr(portal);
    assert.match(link, new RegExp(`^${base}/authenticator/#pair=[A-Za-z0-9_-]{43}$`));

    // not paired yet: the old app's codes still work (over RADIUS, PIN + code)
    await awaitFreshStep(8000);
    usedStep = stepNow();
    const before = await radius({ 'User-Password': `${PIN}${totpNow(oldSecret)}` });
    assert.equal(before.code, 'Access-Accept', before.transcript);

    await app.goto(link);
    await app.getByRole('heading', { name: 'Pair this phone' }).waitFor();
    await clean(app, 'the app’s pairing screen');
    await app.getByLabel('Name of this phone').fill('Ana’s Pixel');
    await app.getByRole('button', { name: 'Pair this phone' }).click();
    await app.getByText('Paired. This phone now gets sign-in requests.').waitFor();
    await app.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
    assert.equal(new URL(app.url()).hash, '', 'the pairing token leaves the address bar');

    // the laptop's page notices by itself
    await portal
      .getByRole('status')
      .filter({ hasText: 'Paired with Ana’s Pixel' })
      .waitFor({ timeout: 30_000 });

    const tokens = (await admin.ok('GET', '/v1/admin/users/ana/tokens')).items;
    assert.equal(tokens.length, 1, 'the same device moved online, none was added');
    assert.equal(tokens[0].serial, serial, 'same device, same serial');
    assert.equal(tokens[0].device?.registration, 'online');
    assert.equal(tokens[0].device?.name, 'Ana’s Pixel');

    // the seed was rotated: the old app's codes stop, the new app's work
    await stepAfter(usedStep);
    usedStep = stepNow();
    const old = await radius({ 'User-Password': `${PIN}${totpNow(oldSecret)}` });
    assert.equal(old.code, 'Access-Reject', old.transcript);
    const fresh = await radius({ 'User-Password': `${PIN}${await appCode()}` });
    assert.equal(fresh.code, 'Access-Accept', fresh.transcript);

    await portal.goto(`${base}/portal/`);
    const device = portal.locator(`.device[data-serial="${serial}"]`);
    assert.match((await device.locator('.registration').textContent()) ?? '', /online/);
    assert.match((await device.textContent()) ?? '', /Ana’s Pixel/);
    assert.match((await device.locator('.config').textContent()) ?? '', /number matching on/);
    await clean(portal, 'the devices page with an online device');
    assert.deepEqual(appProblems, []);
  });

  /** A login over RADIUS: the PIN alone starts the push; the answer says what to pick. */
  async function startLogin(): Promise<{ state: string; message: string }> {
    const first = await radius({ 'User-Password': PIN });
    assert.equal(first.code, 'Access-Challenge', first.transcript);
    return { state: first.attrs['State'] ?? '', message: first.attrs['Reply-Message'] ?? '' };
  }
  /** The NAS asks again with the challenge's State and whatever the user typed ("did the phone say yes?"). */
  const poll = (state: string, typed = 'ok') => radius({ 'User-Password': typed, State: { raw: state } });
  /** The open request card on the phone (answered ones stay, closed, below). */
  const openCard = () => app.locator('.request:not(.closed)');

  test('approve with number matching: the login shows a number, the phone picks it, RADIUS accepts', async () => {
    const login = await startLogin();
    const shown = /pick (\d+)/.exec(login.message)?.[1];
    assert.ok(shown, `the challenge text names the number: ${login.message}`);
    const card = openCard();
    await card.waitFor({ timeout: 20_000 });
    assert.match((await card.textContent()) ?? '', /vpn/, 'the card names the relying system');
    const numbers = await card.locator('button.number').allTextContents();
    assert.equal(numbers.length, 3);
    assert.ok(numbers.includes(shown), `${shown} is among ${numbers}`);
    await clean(app, 'the app with a sign-in request');

    const waiting = await poll(login.state);
    assert.equal(waiting.code, 'Access-Challenge', `not approved yet: the login waits ${waiting.transcript}`);
    // keyboard: the number buttons are reachable and pressed with Enter
    await card.getByRole('button', { name: shown, exact: true }).focus();
    await app.keyboard.press('Enter');
    await app.getByText('Approved: the sign-in goes on.').waitFor();
    // the NAS asks again with no password at all
    const accepted = await poll(waiting.attrs['State'] ?? login.state, '');
    assert.equal(accepted.code, 'Access-Accept', accepted.transcript);
  });

  test('a wrong number ends the login like a deny', async () => {
    const login = await startLogin();
    const shown = /pick (\d+)/.exec(login.message)![1]!;
    const card = openCard();
    await card.waitFor({ timeout: 20_000 });
    const wrong = (await card.locator('button.number').allTextContents()).find((n) => n !== shown)!;
    await card.getByRole('button', { name: wrong, exact: true }).click();
    await app.getByText('That was not the number on the sign-in screen').waitFor();
    const refused = await poll(login.state);
    assert.equal(refused.code, 'Access-Reject', refused.transcript);
    assert.match(refused.attrs['Reply-Message'] ?? '', /PUSH_DENIED/);
  });

  test('deny: the login is refused at once', async () => {
    const login = await startLogin();
    const card = openCard();
    await card.waitFor({ timeout: 20_000 });
    await card.getByRole('button', { name: 'Deny' }).click();
    await app.getByText('Denied: the sign-in was refused').waitFor();
    const refused = await poll(login.state);
    assert.equal(refused.code, 'Access-Reject', refused.transcript);
    assert.match(refused.attrs['Reply-Message'] ?? '', /PUSH_DENIED/);
  });

  test('unlock before approving: WebAuthn user verification on the phone, refused without it', async () => {
    // user verification required, and pushes that expire after 15 s (for the expiry test)
    await restartWithPushSettings({ userVerification: true, timeoutSeconds: 15 });
    await app.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 45_000 });
    const login = await startLogin();
    const shown = /pick (\d+)/.exec(login.message)![1]!;
    const card = openCard();
    await card.waitFor({ timeout: 20_000 });
    // the unlock fails (the virtual authenticator says the user was not verified): no approve
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
    await card.getByRole('button', { name: shown, exact: true }).click();
    await app.getByRole('alert').filter({ hasText: 'not unlocked' }).waitFor();
    assert.equal((await poll(login.state)).code, 'Access-Challenge', 'still waiting');
    // unlocked: approved, and the server saw the verification
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });
    await card.getByRole('button', { name: shown, exact: true }).click();
    await app.getByText('Approved: the sign-in goes on.').waitFor();
    const accepted = await poll(login.state);
    assert.equal(accepted.code, 'Access-Accept', accepted.transcript);

    // a browser with no platform authenticator cannot approve, and the app says why
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    const again = await startLogin();
    const pick = /pick (\d+)/.exec(again.message)![1]!;
    const next = openCard();
    await next.waitFor({ timeout: 20_000 });
    await next.getByRole('button', { name: pick, exact: true }).click();
    await app.getByRole('alert').filter({ hasText: 'no screen lock that the browser can check' }).waitFor();
    await next.getByRole('button', { name: 'Deny' }).click();
    await app.getByText('Denied: the sign-in was refused').waitFor();
    assert.equal((await poll(again.state)).code, 'Access-Reject');
  });

  test('code to phone: the phone shows the code, the user types it at the VPN prompt', async () => {
    await admin.ok('PATCH', `/v1/admin/clients/${radiusClientId}`, { pushMode: 'code' });
    try {
      const login = await startLogin();
      assert.match(login.message, /code shown on your phone/);
      const card = openCard();
      await card.waitFor({ timeout: 20_000 });
      assert.equal(await card.getByRole('button', { name: 'Approve' }).count(), 0, 'nothing to approve');
      const code = (await card.locator('[data-code]').getAttribute('data-code')) ?? '';
      assert.match(code, /^\d+$/);
      await clean(app, 'the app showing a code to type');
      const typed = await radius({ 'User-Password': code, State: { raw: login.state } });
      assert.equal(typed.code, 'Access-Accept', typed.transcript);
      // the phone notices the code was used and closes the request by itself
      await app
        .locator('.request.closed')
        .filter({ hasText: 'the code was used' })
        .waitFor({ timeout: 20_000 });
    } finally {
      await admin.ok('PATCH', `/v1/admin/clients/${radiusClientId}`, { pushMode: 'poll' });
    }
  });

  test('a push nobody answers expires on the phone and refuses the login', async () => {
    const login = await startLogin();
    await openCard().waitFor({ timeout: 20_000 });
    await app.locator('.request.closed').filter({ hasText: 'Expired' }).waitFor({ timeout: 30_000 });
    const refused = await poll(login.state);
    assert.equal(refused.code, 'Access-Reject', refused.transcript);
    assert.match(refused.attrs['Reply-Message'] ?? '', /PUSH_EXPIRED/);
    assert.deepEqual(appProblems, []);
  });

  test('with the network off, the app still opens and its code signs in', async () => {
    await phone.context.setOffline(true);
    try {
      const reloaded = await app.reload();
      assert.equal(reloaded?.fromServiceWorker(), true, 'the app came from its service worker’s copy');
      await app.getByRole('status').filter({ hasText: 'Offline' }).waitFor();
      await stepAfter(usedStep);
      usedStep = stepNow();
      const code = await appCode();
      assert.match(code, /^\d{6}$/);
      const reply = await radius({ 'User-Password': `${PIN}${code}` });
      assert.equal(reply.code, 'Access-Accept', reply.transcript);
    } finally {
      await phone.context.setOffline(false);
    }
    await app.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 45_000 });
  });

  test('Add phone (online): the portal waits for the phone and says "paired" by itself', async () => {
    await portal.goto(`${base}/portal/`);
    await portal.getByRole('button', { name: 'Add phone (online)' }).click();
    await portal.getByRole('status').filter({ hasText: 'Waiting for the phone to scan' }).waitFor();
    const link = new URL(await scanQr(portal));
    const pairingToken = link.hash.replace('#pair=', '');
    // a second phone, outside the browser: any client that speaks the device API pairs the same way
    const second = await DeviceClient.create(fetchTransport(node.url));
    const paired = await second.pair(pairingToken, 'Ana’s tablet');
    assert.equal(paired.status, 201, JSON.stringify(paired.body));
    await portal
      .getByRole('status')
      .filter({ hasText: 'Paired with Ana’s tablet' })
      .waitFor({ timeout: 30_000 });
    assert.equal((await second.pair(pairingToken, 'again')).status >= 400, true, 'the QR works once');
    await portal.getByRole('link', { name: 'Back to my devices' }).click();
    const tablet = portal.locator('.device').filter({ hasText: 'Ana’s tablet' });
    assert.match((await tablet.locator('.registration').textContent()) ?? '', /online/);
    assert.match((await tablet.textContent()) ?? '', /this portal/);
  });
});
