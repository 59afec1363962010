// The self-service portal as a person on a phone uses it: Debian's Chromium at 390×844, a real SMTP
// server, FreeRADIUS + radclient, and the test's own authenticator (TOTP from the QR it decodes).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import jsqr from 'jsqr';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { accessibilityProblems, launchBrowser, type TestBrowser } from '../harness/browser.ts';
import { awaitFreshStep, totpNow } from '../harness/codes.ts';
import { type FreeRadiusHandle, startFreeRadius } from '../harness/freeradius.ts';
import { radAuth } from '../harness/radclient.ts';
import { type SmtpHandle, smtpEnv, startSmtp } from '../harness/smtp.ts';
import { Api, startTessera, type TesseraHandle } from '../harness/tessera.ts';

const PHONE = { width: 390, height: 844 };
// jsqr is CommonJS with a `default` too: the same function whichever way Node hands it over.
const jsQR = (jsqr as unknown as { default: typeof jsqr.default }).default ?? jsqr;

/** The authenticator app's side: the otpauth URI read from the QR code on the page. */
async function scanQr(page: Page): Promise<{ uri: string; secret: string }> {
  const shot = await page.locator('#qr svg').screenshot();
  const png = PNG.sync.read(shot);
  const found = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  assert.ok(found, 'the QR code on the page decodes');
  const uri = new URL(found.data);
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.host, 'totp');
  const secret = uri.searchParams.get('secret') ?? '';
  assert.match(secret, /^[A-Z2-7]{32}$/);
  return { uri: found.data, secret };
}

async function noAccessibilityProblems(page: Page, where: string): Promise<void> {
  assert.deepEqual(await accessibilityProblems(page), [], `axe-core on ${where}`);
}

async function fitsThePhone(page: Page): Promise<void> {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `the page is ${width}px wide on a ${PHONE.width}px screen`);
}

describe('self-service portal in Chromium on a phone-sized screen', () => {
  let smtp: SmtpHandle;
  let node: TesseraHandle;
  let admin: Api;
  let client: Api;
  let fr: FreeRadiusHandle;
  let browser: TestBrowser;
  let page: Page;
  /** The secret of the device the user has now, as the test's authenticator holds it. */
  let deviceSecret = '';
  let firstLink = '';
  let recoveryCodes: string[] = [];

  beforeAll(async () => {
    smtp = await startSmtp();
    node = await startTessera({ env: smtpEnv(smtp) });
    admin = new Api(node.url, node.adminKey);
    client = new Api(node.url, await admin.createClient('api'));
    const radius = await admin.ok('POST', '/v1/admin/clients', {
      name: 'fr',
      kind: 'radius',
      rejectDetail: 'reason',
    });
    fr = await startFreeRadius({ tesseraUrl: node.url, apiKey: radius.apiKey });
    browser = await launchBrowser({ viewport: PHONE, isMobile: true, hasTouch: true });
    page = await browser.context.newPage();
    const csp: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) csp.push(m.text());
    });
    page.on('pageerror', (e) => csp.push(e.message));
    (page as Page & { cspProblems?: string[] }).cspProblems = csp;
  });
  afterAll(async () => {
    await browser?.close();
    await fr?.stop();
    await node?.stop();
    await smtp?.close();
  });

  const radius = (user: string, pass: string) =>
    radAuth({ port: fr.port, secret: fr.secret }, { 'User-Name': user, 'User-Password': pass });

  test('invitation mail → link → QR scanned → code from the app → active (never before)', async () => {
    await admin.ok('POST', '/v1/admin/users', {
      username: 'mia',
      email: 'mia@example.test',
      displayName: 'Mia',
    });
    await admin.ok('POST', '/v1/admin/users/mia/invitations', {});
    const mail = await smtp.waitForMail('mia@example.test', /Set up your second factor/);
    firstLink = /http:\/\/\S+\/portal\/i\/[A-Za-z0-9_-]{43}/.exec(mail.text)![0];
    assert.ok(mail.html.includes(firstLink), 'the HTML part carries the same link');

    await page.goto(firstLink);
    await page.getByRole('heading', { name: 'Set up your authenticator, Mia' }).waitFor();
    const { secret } = await scanQr(page);
    const shown = ((await page.locator('#secret').textContent()) ?? '').replace(/\s/g, '');
    assert.equal(shown, secret, 'the key for manual entry is the one in the QR code');
    assert.equal(
      await page.getByRole('link', { name: 'Open it in your authenticator app' }).getAttribute('href'),
      (await scanQr(page)).uri,
    );
    await noAccessibilityProblems(page, 'the enrolment page');
    await fitsThePhone(page);

    await awaitFreshStep(8000);
    // The token exists but is pending: neither the API nor RADIUS accepts its code.
    const viaApi = await client.ok('POST', '/v1/validate', { user: 'mia', pass: totpNow(secret) });
    assert.equal(viaApi.reason, 'NO_TOKEN');
    const viaRadius = await radius('mia', totpNow(secret));
    assert.equal(viaRadius.code, 'Access-Reject', viaRadius.transcript);

    await page.getByLabel('Code from the app').fill(totpNow(secret, { offsetSteps: 1 }));
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByText('Your authenticator is set up').waitFor();
    await noAccessibilityProblems(page, 'the devices page');
    await fitsThePhone(page);
    assert.match((await page.locator('.device').first().textContent()) ?? '', /an invitation link/);
    deviceSecret = secret;

    const accepted = await radius('mia', totpNow(secret, { offsetSteps: 2 }));
    assert.equal(accepted.code, 'Access-Accept', accepted.transcript);
    await smtp.waitForMail('mia@example.test', /authenticator is set up/);
  });

  test('used, expired and forged links are refused with a page that says why', async () => {
    await page.goto(firstLink);
    await page.getByRole('heading', { name: 'This invitation was used already' }).waitFor();
    await noAccessibilityProblems(page, 'a refused link');
    await admin.ok('POST', '/v1/admin/users', { username: 'otto', email: 'otto@example.test' });
    await admin.ok('POST', '/v1/admin/users/otto/invitations', { ttlHours: 0.0005 });
    const link = /http:\/\/\S+\/portal\/i\/[A-Za-z0-9_-]{43}/.exec(
      (await smtp.waitForMail('otto@example.test')).text,
    )![0];
    await new Promise((r) => setTimeout(r, 2000)); // past its 1.8 s lifetime: the expiry is the event
    const expired = await page.goto(link);
    assert.equal(expired?.status(), 410);
    await page.getByRole('heading', { name: 'This invitation has expired' }).waitFor();
    const forged = await page.goto(`${link.slice(0, -5)}AAAAA`);
    assert.equal(forged?.status(), 404);
    await page.getByRole('heading', { name: 'This link is not valid' }).waitFor();
    await page.goto(`${node.url}/portal/`);
  });

  test('rename, and a drifted phone resynchronised with two codes', async () => {
    // signed in since the enrolment (same browser): the device list is the home page
    await page.goto(`${node.url}/portal/`);
    await page.locator('summary').first().click();
    await page.getByLabel('New name').fill('Work phone');
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByText('Renamed.').waitFor();
    await page.getByRole('heading', { name: /Work phone/ }).waitFor();

    await awaitFreshStep(8000);
    const drifted = totpNow(deviceSecret, { offsetSteps: 20 });
    assert.equal(
      (await client.ok('POST', '/v1/validate', { user: 'mia', pass: drifted })).reason,
      'OTP_INVALID',
    );
    await page.locator('summary').first().click();
    await page.getByLabel('First code').fill(totpNow(deviceSecret, { offsetSteps: 21 }));
    await page.getByLabel('Next code').fill(totpNow(deviceSecret, { offsetSteps: 22 }));
    await page.getByRole('button', { name: 'Resynchronise' }).click();
    await page.getByText('The device is in step again.').waitFor();
    const after = await client.ok('POST', '/v1/validate', {
      user: 'mia',
      pass: totpNow(deviceSecret, { offsetSteps: 23 }),
    });
    assert.equal(after.result, 'accept');
  });

  test('a new phone: scan, prove, and the old one stops working in the same step', async () => {
    await page.goto(`${node.url}/portal/`);
    await page.locator('summary').first().click();
    await page.getByRole('button', { name: 'Replace with a new phone' }).click();
    await page.getByRole('heading', { name: 'Move to a new phone' }).waitFor();
    const { secret } = await scanQr(page);
    assert.notEqual(secret, deviceSecret);
    await noAccessibilityProblems(page, 'the new phone page');
    await awaitFreshStep(8000);
    await page.getByLabel('Code from the app').fill(totpNow(secret));
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByText('The new phone is active and the old one no longer works.').waitFor();
    const devices = page.locator('.device');
    assert.equal(await devices.count(), 1);
    assert.match((await devices.first().textContent()) ?? '', /Work phone[\s\S]*default[\s\S]*this portal/);
    const old = await client.ok('POST', '/v1/validate', {
      user: 'mia',
      pass: totpNow(deviceSecret, { offsetSteps: 24 }),
    });
    assert.equal(old.reason, 'OTP_INVALID', 'the old phone is retired');
    const fresh = await radius('mia', totpNow(secret, { offsetSteps: 1 }));
    assert.equal(fresh.code, 'Access-Accept', fresh.transcript);
    await smtp.waitForMail('mia@example.test', /replaced/);
    deviceSecret = secret;
  });

  test('recovery codes: shown once, printable and downloadable, each works once over RADIUS, the count goes down', async () => {
    await page.goto(`${node.url}/portal/`);
    await page.getByRole('button', { name: 'Make a new set of recovery codes' }).click();
    await page.getByRole('heading', { name: 'Your new recovery codes' }).waitFor();
    const codes = (await page.locator('#codes code').allInnerTexts()).map((c) => c.trim());
    recoveryCodes = codes;
    assert.equal(codes.length, 10);
    for (const c of codes) assert.match(c, /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
    await page.getByRole('button', { name: 'Print' }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download as a text file' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'recovery-codes.txt');
    const saved = await download.path();
    const text = readFileSync(saved, 'utf8');
    for (const c of codes) assert.ok(text.includes(c), 'every code is in the download');
    await noAccessibilityProblems(page, 'the recovery codes page');
    await fitsThePhone(page);

    const first = await radius('mia', codes[0]!);
    assert.equal(first.code, 'Access-Accept', first.transcript);
    const again = await radius('mia', codes[0]!);
    assert.equal(again.code, 'Access-Reject', again.transcript);
    await smtp.waitForMail('mia@example.test', /recovery code was used/);
    await page.goto(`${node.url}/portal/`);
    assert.equal(
      (await page.locator('#recovery-left').textContent())?.trim(),
      '9 of 10 recovery codes left.',
    );
    const audit = (await admin.ok('GET', '/v1/admin/audit?limit=100')).items as {
      username?: string;
      result?: string;
      detail?: Record<string, unknown>;
    }[];
    assert.ok(
      audit.some((e) => e.username === 'mia' && e.result === 'accept' && e.detail?.method === 'recovery'),
    );
  });

  test('signing in with a recovery code when the phone is gone', async () => {
    const fresh = await launchBrowser({ viewport: PHONE, isMobile: true });
    try {
      const p = await fresh.context.newPage();
      await p.goto(`${node.url}/portal/`);
      await p.getByRole('heading', { name: 'Sign in' }).waitFor();
      await noAccessibilityProblems(p, 'the sign-in page');
      await p.getByLabel('Username').fill('mia');
      await p.getByLabel('Code').fill('zzzz-zzzz-zzzz');
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByText('Sign-in failed').waitFor();
      await p.getByLabel('Username').fill('mia');
      await p.getByLabel('Code').fill(recoveryCodes[1]!.toUpperCase());
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('heading', { name: 'My sign-in devices' }).waitFor();
      assert.equal((await p.locator('#recovery-left').textContent())?.trim(), '8 of 10 recovery codes left.');
      const cookies = await fresh.context.cookies();
      for (const c of cookies.filter((c) => c.name.startsWith('tessera_'))) {
        assert.equal(c.httpOnly, true, c.name);
        assert.equal(c.sameSite, 'Strict', c.name);
        assert.equal(c.path, '/portal');
      }
    } finally {
      await fresh.close();
    }
  });

  test('no page broke the content security policy', () => {
    assert.deepEqual((page as Page & { cspProblems?: string[] }).cspProblems, []);
  });
});
