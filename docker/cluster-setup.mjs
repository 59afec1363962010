// One-shot setup of the compose cluster (docker/compose.ha.yaml), run in the Tessera image:
//   keygen    the shared seed key, once, into TESSERA_MASTER_KEY_FILE
//   tessera   the RADIUS and Keycloak clients (keys into /shared) and the demo user with a TOTP token
//   keycloak  `tessera keycloak setup` for the realm, once Keycloak answers
// Each step is idempotent: a second `up` changes nothing.
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { main } from '../src/cli/main.js';

const SHARED = process.env.SETUP_SHARED_DIR ?? '/shared';
const TESSERA = process.env.SETUP_TESSERA_URL ?? 'http://tessera-a:8080';
const ADMIN_KEY_FILE = process.env.SETUP_ADMIN_KEY_FILE ?? '/node-a/admin.key';

async function waitUntil(what, probe, seconds = 300) {
  for (let i = 0; i < seconds; i++) {
    try {
      if (await probe()) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${what}: no answer after ${seconds} s`);
}

async function admin(method, path, body) {
  const key = readFileSync(ADMIN_KEY_FILE, 'utf8').trim();
  const res = await fetch(`${TESSERA}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

function writeOnce(path, text) {
  writeFileSync(path, text, { mode: 0o644, flag: 'wx' });
}

async function clientKey(name, kind) {
  const file = `${SHARED}/${name}.key`;
  if (existsSync(file)) return;
  const res = await admin('POST', '/v1/admin/clients', { name, kind });
  if (res.status !== 201) throw new Error(`client ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  writeOnce(file, `${res.body.apiKey}\n`);
  console.log(`client ${name} (${kind}): key in ${file}`);
}

async function demoUser() {
  const user = process.env.SETUP_DEMO_USER ?? 'demo';
  const pin = process.env.SETUP_DEMO_PIN ?? '1234';
  const created = await admin('POST', '/v1/admin/users', { username: user, pin });
  if (created.status !== 201 && created.status !== 409)
    throw new Error(`user ${user}: ${created.status} ${JSON.stringify(created.body)}`);
  const existing = await admin('GET', `/v1/admin/users/${user}`);
  if ((existing.body?.tokens ?? []).length > 0) return console.log(`user ${user} has a token already`);
  // "generated": the server makes the secret (it is then only in the enrolment link below)
  const secret = process.env.SETUP_DEMO_TOTP_SECRET ?? 'generated';
  const token = await admin('POST', `/v1/admin/users/${user}/tokens`, {
    type: 'totp',
    ...(secret !== 'generated' ? { secret } : {}),
  });
  if (token.status !== 201) throw new Error(`token: ${token.status} ${JSON.stringify(token.body)}`);
  // a demo cluster: the enrolment link is printed so the evaluator can scan it
  console.log(`user ${user} (PIN ${pin}): ${token.body.otpauthUri}`);
}

const step = process.argv[2];
if (step === 'keygen') {
  const file = process.env.TESSERA_MASTER_KEY_FILE ?? '/secrets/master.key';
  if (!existsSync(file)) {
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    // the nodes run as the image's user (10001); only they read it
    chownSync(file, 10001, 10001);
  }
  console.log(`seed key in ${file}`);
} else if (step === 'tessera') {
  await waitUntil('the admin key of tessera-a', () => existsSync(ADMIN_KEY_FILE));
  await waitUntil(`${TESSERA}/readyz`, async () => (await fetch(`${TESSERA}/readyz`)).status === 200);
  await clientKey('freeradius', 'radius');
  await clientKey('keycloak', 'keycloak');
  await demoUser();
} else if (step === 'keycloak') {
  const kc = process.env.SETUP_KEYCLOAK_URL ?? 'http://keycloak:8080';
  const realm = process.env.SETUP_REALM ?? 'tessera';
  const keyFile = `${SHARED}/keycloak.key`;
  await waitUntil(keyFile, () => existsSync(keyFile), 600);
  await waitUntil(
    `${kc}/realms/${realm}`,
    async () => (await fetch(`${kc}/realms/${realm}`)).status === 200,
    600,
  );
  process.exitCode = await main([
    'keycloak',
    'setup',
    '--keycloak-url',
    kc,
    '--realm',
    realm,
    '--admin-user',
    process.env.KC_BOOTSTRAP_ADMIN_USERNAME ?? 'admin',
    '--admin-password',
    process.env.KC_BOOTSTRAP_ADMIN_PASSWORD ?? 'admin',
    '--tessera-url',
    process.env.SETUP_TESSERA_URL_FOR_KEYCLOAK ?? TESSERA,
    '--api-key-file',
    keyFile,
  ]);
} else {
  console.error('usage: cluster-setup.mjs keygen|tessera|keycloak');
  process.exitCode = 2;
}
