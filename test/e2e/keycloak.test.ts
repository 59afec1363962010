// End to end: the tessera-otp jar in a real Keycloak, set up by `tessera keycloak setup`, driven by Chromium.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { launchBrowser, type TestBrowser, within } from '../harness/browser.ts';
import { awaitFreshStep, totpNow } from '../harness/codes.ts';
import {
  buildExtension,
  type ExtensionBuild,
  type KeycloakHandle,
  startKeycloak,
} from '../harness/keycloak.ts';
import { clickAndLoad } from '../harness/keycloak-realm.ts';
import { freePort, waitFor } from '../harness/ports.ts';
import { Api, type CliResult, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';

const REALM = 'tessera-e2e';
const CLIENT_ID = 'e2e-app';
const USERNAME = 'alice';
const PIN_USER = 'carol';
const PIN = '4711';
const ROBOT = 'robot';
const GUESSER = 'dave';
const PASSWORD = 'correct horse battery staple';
// The browser claims this address; Keycloak (trusting X-Forwarded-For) must pass it on to Tessera.
const BROWSER_IP = '203.0.113.9';
const CHALLENGE_TEXT = 'Code from your app <b>now</b>';

// Texts from keycloak-extension/src/main/resources/theme-resources/messages/messages_en.properties.
const MSG_INVALID = 'The one-time code is not valid';
const MSG_REUSED = 'This code has already been used';
const MSG_UNAVAILABLE = 'The second-factor service is not available';
const MSG_CHALLENGE = 'Please enter the code you received';
const MSG_LOCKED = 'Your account is temporarily locked';
/** For the browser calls Playwright leaves without a timeout. */
const BROWSER_CALL_MS = 30_000;

let build: ExtensionBuild;
let kc: KeycloakHandle;
let tessera: TesseraHandle | undefined;
let tesseraUrl = '';
let apiKey = '';
let secret = '';
let pinSecret = '';
let guesserSecret = '';
const userIds: Record<string, string> = {};
let userId = '';
let api: Api;
let app: Server | undefined;
let appUrl = '';
let browser: BrowserContext | undefined;
let testBrowser: TestBrowser | undefined;

/** Runs `tessera keycloak setup` as an operator would. */
function setup(extra: string[] = []): Promise<CliResult> {
  return runCli(
    [
      'keycloak',
      'setup',
      '--keycloak-url',
      kc.url,
      '--realm',
      REALM,
      '--admin-user',
      kc.adminUser,
      '--admin-password',
      kc.adminPassword,
      '--tessera-url',
      tesseraUrl,
      '--api-key',
      apiKey,
      '--timeout-ms',
      '2000',
      ...extra,
    ],
    {},
  );
}

async function admin(): Promise<KcAdminClient> {
  const c = new KcAdminClient({ baseUrl: kc.url, realmName: 'master' });
  await c.auth({
    grantType: 'password',
    clientId: 'admin-cli',
    username: kc.adminUser,
    password: kc.adminPassword,
  });
  c.setConfig({ realmName: REALM });
  return c;
}

/** What setup controls, read back from Keycloak: flows, executions, step config, realm binding. */
async function flowState(c: KcAdminClient): Promise<unknown> {
  const flows = (await c.authenticationManagement.getFlows()).map((f) => ({ id: f.id, alias: f.alias }));
  const executions = await c.authenticationManagement.getExecutions({ flow: 'tessera-browser' });
  const step = executions.find((e) => e.providerId === 'tessera-otp');
  const config = step?.authenticationConfig
    ? await c.authenticationManagement.getConfig({ id: step.authenticationConfig })
    : undefined;
  const realm = await c.realms.findOne({ realm: REALM });
  return { flows, executions, config, browserFlow: realm?.browserFlow };
}

/** A fresh login (no cookies): username and password submitted. */
async function loginWithPassword(username: string): Promise<Page> {
  assert.ok(browser);
  await within('clearing the cookies', BROWSER_CALL_MS, browser.clearCookies());
  const page = await within('opening a page', BROWSER_CALL_MS, browser.newPage());
  const auth = new URL(`${kc.url}/realms/${REALM}/protocol/openid-connect/auth`);
  auth.searchParams.set('client_id', CLIENT_ID);
  auth.searchParams.set('redirect_uri', `${appUrl}/cb`);
  auth.searchParams.set('response_type', 'code');
  auth.searchParams.set('scope', 'openid');
  auth.searchParams.set('state', 'e2e-state');
  await page.goto(auth.toString());
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(PASSWORD);
  await clickAndLoad(page, '#kc-login');
  return page;
}

/** A fresh login up to the code form. */
async function loginToCodeForm(username = USERNAME): Promise<Page> {
  const page = await loginWithPassword(username);
  await page.locator('input[name="otp"]').waitFor({ timeout: 30_000 });
  assert.ok(page.url().startsWith(`${kc.url}/realms/${REALM}/`), `still at Keycloak: ${page.url()}`);
  return page;
}

/**
 * Submits the code form. The click returns once the navigation it started has committed; only
 * then is the load state the answer's (waited for beside the click, it was the form's own, done).
 */
async function submitCode(page: Page, code: string): Promise<void> {
  await page.locator('input[name="otp"]').fill(code);
  await clickAndLoad(page, '#kc-login');
}

/** Playwright's close has no timeout of its own. */
function closePage(page: Page): Promise<void> {
  return within('closing the page', BROWSER_CALL_MS, page.close());
}

/** Asserts the browser landed on the app with an authorization code, and that the code buys tokens. */
async function assertLoggedIn(page: Page, username = USERNAME): Promise<void> {
  await page.waitForURL((u) => u.toString().startsWith(`${appUrl}/cb`), { timeout: 30_000 });
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('state'), 'e2e-state');
  const code = url.searchParams.get('code');
  assert.ok(code, `no authorization code in ${page.url()}`);
  const res = await fetch(`${kc.url}/realms/${REALM}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      client_id: CLIENT_ID,
      redirect_uri: `${appUrl}/cb`,
    }),
    signal: AbortSignal.timeout(30_000),
  });
  const tokens = (await res.json()) as { access_token?: string; error?: string };
  assert.equal(res.status, 200, JSON.stringify(tokens));
  const claims = JSON.parse(Buffer.from(tokens.access_token!.split('.')[1]!, 'base64url').toString()) as {
    preferred_username?: string;
  };
  assert.equal(claims.preferred_username, username);
}

/** Asserts the page is still the code form, showing the given error. */
async function assertRefused(page: Page, text: string): Promise<void> {
  assert.ok(!page.url().startsWith(appUrl), `logged in although refused: ${page.url()}`);
  await page.locator('input[name="otp"]').waitFor({ timeout: 10_000 });
  const body = (await page.locator('body').textContent()) ?? '';
  assert.ok(body.includes(text), `expected "${text}" on the page, got:\n${body.slice(0, 1500)}`);
}

describe('Keycloak authenticator (real Keycloak, real Tessera, Chromium)', { timeout: 600_000 }, () => {
  beforeAll(async () => {
    build = buildExtension();
    // both start at once; if one fails, the other is still kept for afterAll to stop
    const [k, t] = await Promise.allSettled([
      startKeycloak({
        providers: [build.jar],
        args: ['--proxy-headers=xforwarded'],
        // with our provider Keycloak re-builds itself first: minutes on a loaded machine
        startTimeoutMs: 480_000,
      }),
      startTessera(),
    ]);
    if (k.status === 'fulfilled') kc = k.value;
    if (t.status === 'fulfilled') tessera = t.value;
    if (k.status === 'rejected') throw k.reason;
    if (t.status === 'rejected') throw t.reason;
    tesseraUrl = t.value.url;

    api = new Api(t.value.url, t.value.adminKey);
    apiKey = await api.createClient('keycloak', { challengeText: CHALLENGE_TEXT });
    secret = (await api.createUserWithTotp(USERNAME)).secret;
    pinSecret = (await api.createUserWithTotp(PIN_USER, { pin: PIN })).secret;
    guesserSecret = (await api.createUserWithTotp(GUESSER)).secret;

    const port = await freePort();
    appUrl = `http://127.0.0.1:${port}`;
    app = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>e2e app: logged in</h1>');
    });
    await new Promise<void>((r) => app!.listen(port, '127.0.0.1', r));

    const c = await admin();
    await c.realms.create({
      realm: REALM,
      enabled: true,
      // The browser's forwarded address is not local, and this test speaks plain HTTP on loopback.
      sslRequired: 'none',
      // Brute-force protection on, so the test can see the step's failures counted.
      bruteForceProtected: true,
      failureFactor: 30,
      quickLoginCheckMilliSeconds: 1,
    });
    const users = userIds;
    for (const [username, first] of [
      [USERNAME, 'Alice'],
      [PIN_USER, 'Carol'],
      [ROBOT, 'Robot'],
      [GUESSER, 'Dave'],
    ] as const) {
      const created = await c.users.create({
        username,
        enabled: true,
        email: `${username}@example.org`,
        emailVerified: true,
        firstName: first,
        lastName: 'Example',
        credentials: [{ type: 'password', value: PASSWORD, temporary: false }],
      });
      users[username] = created.id;
    }
    userId = users[USERNAME]!;
    // The robot is in a subgroup of "robots"; excluding "robots" must cover it (membership is inherited).
    const robots = await c.groups.create({ name: 'robots' });
    const ci = await c.groups.createChildGroup({ id: robots.id }, { name: 'ci' });
    await c.users.addToGroup({ id: users[ROBOT]!, groupId: ci.id });
    await c.clients.create({
      clientId: CLIENT_ID,
      publicClient: true,
      standardFlowEnabled: true,
      directAccessGrantsEnabled: false,
      redirectUris: [`${appUrl}/cb`],
    });

    testBrowser = await launchBrowser({ extraHTTPHeaders: { 'X-Forwarded-For': BROWSER_IP } });
    browser = testBrowser.context;
  });

  afterAll(async () => {
    await testBrowser?.close();
    await tessera?.stop().catch(() => {});
    await kc?.stop();
    await new Promise<void>((r) => (app ? app.close(() => r()) : r()));
  });

  it('built the jar and passed the JUnit suite', () => {
    assert.ok(build.junit.tests >= 20, `only ${build.junit.tests} JUnit tests ran`);
    assert.equal(build.junit.failures + build.junit.errors, 0);
    assert.match(kc.output(), /tessera-otp/, 'Keycloak did not load the tessera-otp provider');
  });

  it('tessera keycloak setup configures the realm, and a second run changes nothing', async () => {
    const first = await setup();
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /added the Tessera step/);
    assert.match(first.out, /bound "tessera-browser"/);
    assert.ok(!first.out.includes(apiKey) && !first.err.includes(apiKey), 'the key must not be printed');

    const c = await admin();
    const before = await flowState(c);
    const second = await setup();
    assert.equal(second.code, 0, second.err);
    assert.match(second.out, /nothing changed/);
    assert.deepEqual(await flowState(c), before);

    const executions = await c.authenticationManagement.getExecutions({ flow: 'tessera-browser' });
    const password = executions.findIndex((e) => e.providerId === 'auth-username-password-form');
    const step = executions.findIndex((e) => e.providerId === 'tessera-otp');
    assert.ok(password >= 0 && step > password, 'the Tessera step comes after the password form');
    assert.equal(executions[step]!.requirement, 'REQUIRED');
  });

  it('wrong code: error on the form and a counted failure; then the right code logs in', async () => {
    // Keep this test and the replay test inside one TOTP step.
    await awaitFreshStep(25_000);
    const page = await loginToCodeForm();
    await submitCode(page, totpNow(secret, { offsetSteps: 10 }));
    await assertRefused(page, MSG_INVALID);

    const c = await admin();
    const status = await waitFor('brute-force failure count', async () => {
      const s = (await c.attackDetection.findOne({ realm: REALM, id: userId })) as
        | { numFailures?: number }
        | undefined;
      return (s?.numFailures ?? 0) >= 1 ? s : undefined;
    });
    assert.ok((status.numFailures ?? 0) >= 1);

    await submitCode(page, totpNow(secret));
    await assertLoggedIn(page);
    await closePage(page);

    // Tessera saw the browser's address, not Keycloak's.
    const audit = (await api.ok('GET', '/v1/admin/audit?limit=50')) as {
      items: { username?: string; result?: string; sourceIp?: string }[];
    };
    const accepted = audit.items.filter((e) => e.username === USERNAME && e.result === 'accept');
    assert.ok(accepted.length > 0, 'no accept audited');
    assert.ok(
      accepted.every((e) => e.sourceIp === BROWSER_IP),
      `audited addresses: ${accepted.map((e) => e.sourceIp)}`,
    );
  });

  it('the same code again, in a new login, is refused', async () => {
    const page = await loginToCodeForm();
    await submitCode(page, totpNow(secret));
    await assertRefused(page, MSG_REUSED);
    await closePage(page);
  });

  it('a helpdesk one-time code (letters, not digits) signs in through Keycloak once, and only once', async () => {
    const issued = (await within(
      'issuing the temporary code',
      BROWSER_CALL_MS,
      api.ok('POST', `/v1/admin/users/${USERNAME}/temporary-code`, { oneTime: true }),
    )) as { code: string };
    assert.match(issued.code, /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
    const page = await loginToCodeForm();
    await submitCode(page, issued.code);
    await assertLoggedIn(page);
    await closePage(page);
    // spent: the form comes back with the error, in a fresh login as in the first
    const again = await loginToCodeForm();
    await submitCode(again, issued.code);
    await assertRefused(again, MSG_INVALID);
    await closePage(again);
  });

  it('PIN alone starts a challenge; the code then answers it (transactionId kept by Keycloak)', async () => {
    const page = await loginToCodeForm(PIN_USER);
    await submitCode(page, PIN);
    await assertRefused(page, MSG_CHALLENGE);
    // A wrong answer uses the challenge up; the form goes back to asking for PIN (+ code).
    await submitCode(page, totpNow(pinSecret, { offsetSteps: 10 }));
    await assertRefused(page, MSG_INVALID);
    assert.equal(await page.locator('#tessera-prompt').count(), 0);
    await submitCode(page, PIN);
    await assertRefused(page, MSG_CHALLENGE);
    // Tessera's challenge text is shown, escaped: the markup arrives as text, not as a <b> element.
    assert.equal(await page.locator('#tessera-prompt').textContent(), CHALLENGE_TEXT);
    assert.equal(await page.locator('#tessera-prompt b').count(), 0);
    await submitCode(page, totpNow(pinSecret));
    await assertLoggedIn(page, PIN_USER);
    await closePage(page);
  });

  it('members of an excluded group skip the code; others still get it', async () => {
    const res = await setup(['--exclude-groups', 'robots']);
    assert.equal(res.code, 0, res.err);
    assert.match(res.out, /updated the Tessera step configuration/);
    const robot = await loginWithPassword(ROBOT);
    await assertLoggedIn(robot, ROBOT);
    await closePage(robot);
    const page = await loginToCodeForm(USERNAME);
    await closePage(page);
  });

  it('after a brute-force lockout the form takes no more guesses, not even the right code', async () => {
    const c = await admin();
    await c.realms.update({ realm: REALM }, { failureFactor: 2 });
    try {
      const page = await loginToCodeForm(GUESSER);
      for (let i = 0; i < 2; i++) {
        await submitCode(page, totpNow(guesserSecret, { offsetSteps: 10 + i }));
        await assertRefused(page, MSG_INVALID);
      }
      await waitFor('the lockout', async () => {
        const s = (await c.attackDetection.findOne({ realm: REALM, id: userIds[GUESSER]! })) as
          | { disabled?: boolean }
          | undefined;
        return s?.disabled === true;
      });
      await submitCode(page, totpNow(guesserSecret));
      await assertRefused(page, MSG_LOCKED);
      await closePage(page);
      // The right code never reached Tessera.
      const audit = (await api.ok('GET', '/v1/admin/audit?stream=auth&limit=100')) as {
        items: { type: string; username?: string; result?: string }[];
      };
      const checks = audit.items.filter((e) => e.type === 'validate' && e.username === GUESSER);
      assert.equal(checks.filter((e) => e.result === 'accept').length, 0);
      assert.deepEqual(
        checks.map((e) => e.result),
        ['reject', 'reject'],
        `Tessera saw exactly the two wrong guesses: ${JSON.stringify(checks)}`,
      );
    } finally {
      await c.realms.update({ realm: REALM }, { failureFactor: 30 });
    }
  });

  it('Tessera unreachable, fail mode closed: error and no login', async () => {
    await tessera!.stop();
    tessera = undefined;
    const page = await loginToCodeForm();
    await submitCode(page, totpNow(secret));
    await assertRefused(page, MSG_UNAVAILABLE);
    assert.match(kc.output(), /fail mode is closed, login of user alice refused/);
    await closePage(page);
  });

  it('Tessera unreachable, fail mode open (set by setup): logged in, and logged', async () => {
    const res = await setup(['--exclude-groups', 'robots', '--fail-mode', 'open']);
    assert.equal(res.code, 0, res.err);
    assert.match(res.out, /updated the Tessera step configuration/);
    const page = await loginToCodeForm();
    await submitCode(page, '000000');
    await assertLoggedIn(page);
    assert.match(kc.output(), /fail mode is open, user alice logged in WITHOUT second factor/);
    await closePage(page);
  });
});
