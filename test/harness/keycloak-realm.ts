// A Keycloak realm that logs users in with the Tessera step, as the browser tests need it: a relying
// app on loopback (the redirect target), a realm with password users and a public client, and
// `tessera keycloak setup` run against it.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type { Page } from 'playwright-core';
import type { KeycloakHandle } from './keycloak.ts';
import { freePort } from './ports.ts';
import { runCli } from './tessera.ts';

export interface RelyingApp {
  /** Base URL; Keycloak redirects to `${url}/cb`. */
  url: string;
  close(): Promise<void>;
}

/** The app a login returns to: answers every request with a plain page. */
export async function startRelyingApp(): Promise<RelyingApp> {
  const port = await freePort();
  const app = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>in</h1>'),
  );
  await new Promise<void>((r) => app.listen(port, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => app.close(() => r())) };
}

export interface LoginRealmOptions {
  realm: string;
  clientId: string;
  appUrl: string;
  password: string;
  usernames: readonly string[];
  tesseraUrl: string;
  apiKey: string;
}

/** Creates the realm, its users and client, and puts the Tessera step into its browser flow. */
export async function createLoginRealm(kc: KeycloakHandle, opts: LoginRealmOptions): Promise<void> {
  const c = new KcAdminClient({ baseUrl: kc.url, realmName: 'master' });
  await c.auth({
    grantType: 'password',
    clientId: 'admin-cli',
    username: kc.adminUser,
    password: kc.adminPassword,
  });
  await c.realms.create({ realm: opts.realm, enabled: true, sslRequired: 'none' });
  c.setConfig({ realmName: opts.realm });
  for (const username of opts.usernames)
    await c.users.create({
      username,
      enabled: true,
      email: `${username}@example.org`,
      emailVerified: true,
      firstName: username,
      lastName: 'Example',
      credentials: [{ type: 'password', value: opts.password, temporary: false }],
    });
  await c.clients.create({
    clientId: opts.clientId,
    publicClient: true,
    standardFlowEnabled: true,
    redirectUris: [`${opts.appUrl}/cb`],
  });
  const setup = await runCli(
    [
      'keycloak',
      'setup',
      ...['--keycloak-url', kc.url, '--realm', opts.realm, '--admin-user', kc.adminUser],
      ...['--admin-password', kc.adminPassword, '--tessera-url', opts.tesseraUrl, '--api-key', opts.apiKey],
    ],
    {},
  );
  assert.equal(setup.code, 0, setup.err);
}

/** The authorization request a login starts with (code flow to the relying app). */
export function authorizationUrl(
  kc: KeycloakHandle,
  opts: Pick<LoginRealmOptions, 'realm' | 'clientId' | 'appUrl'>,
) {
  const auth = new URL(`${kc.url}/realms/${opts.realm}/protocol/openid-connect/auth`);
  for (const [k, v] of Object.entries({
    client_id: opts.clientId,
    redirect_uri: `${opts.appUrl}/cb`,
    response_type: 'code',
    scope: 'openid',
  }))
    auth.searchParams.set(k, v);
  return auth.toString();
}

/**
 * Clicks (or presses Enter in) an element that submits a form, then waits for the page it leads to.
 * Waiting alongside the click resolves on the old page's load, before the answer arrives.
 */
export async function clickAndLoad(page: Page, selector: string, key?: 'Enter'): Promise<void> {
  const target = page.locator(selector);
  await (key ? target.press(key) : target.click());
  await page.waitForLoadState('load');
}

/** Opens the login and passes the password step; the page is then at the Tessera step. */
export async function passwordStep(
  page: Page,
  kc: KeycloakHandle,
  opts: Pick<LoginRealmOptions, 'realm' | 'clientId' | 'appUrl' | 'password'>,
  username: string,
): Promise<void> {
  await page.goto(authorizationUrl(kc, opts));
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(opts.password);
  await clickAndLoad(page, '#kc-login');
}
