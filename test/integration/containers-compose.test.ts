import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { awaitFreshStep, totpNow } from '../harness/codes.ts';
import { ensureDebianPackages } from '../harness/debian.ts';
import {
  buildKeycloakImage,
  buildServiceImage,
  buildTesseraImage,
  ensureEngine,
  podman,
  podmanEnv,
} from '../harness/podman.ts';
import { freePort, freeUdpPort, waitFor } from '../harness/ports.ts';
import { radAuth } from '../harness/radclient.ts';
import { Api, REPO_ROOT, randomBase32 } from '../harness/tessera.ts';

// docker/compose.ha.yaml brought up whole with podman-compose: Redis pair, three Sentinels, two
// Tessera nodes, the setup services, FreeRADIUS and Keycloak. radclient on the host talks to the
// FreeRADIUS container through its port published on 127.0.0.1; Keycloak's realm gets our flow
// from `tessera keycloak setup` (it boots for minutes on a small machine, so it is checked last).
const COMPOSE_FILE = join(REPO_ROOT, 'docker', 'compose.ha.yaml');

describe('docker/compose.ha.yaml: a RADIUS login through the FreeRADIUS container (podman-compose)', () => {
  const project = `tessera-ha-test-${process.pid}`;
  const secret = randomBase32();
  const radiusSecret = randomBase32(12);
  let env: NodeJS.ProcessEnv;
  let radiusPort: number;
  let portA: number;
  let portB: number;
  let portKc: number;

  const compose = (args: string[], timeoutMs = 300_000) => {
    const res = spawnSync('podman-compose', ['-p', project, '-f', COMPOSE_FILE, ...args], {
      env,
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    const out = `${res.stdout ?? ''}${res.stderr ?? ''}`;
    if (res.status !== 0)
      throw new Error(`podman-compose ${args.join(' ')} failed (${res.status}):\n${out.slice(-6000)}`);
    return out;
  };
  const container = (service: string) => `${project}_${service}_1`;
  const logsOf = (service: string) => {
    try {
      return podman(['logs', '--tail', '60', container(service)]);
    } catch (err) {
      return String(err);
    }
  };

  beforeAll(async () => {
    const started = Date.now();
    await ensureEngine();
    ensureDebianPackages(['podman-compose', 'freeradius-utils']);
    const tessera = await buildTesseraImage();
    const redis = await buildServiceImage('redis');
    const freeradius = await buildServiceImage('freeradius', { context: REPO_ROOT });
    const keycloak = await buildKeycloakImage();
    console.log(`# images ready in ${Date.now() - started} ms`);
    radiusPort = await freeUdpPort();
    portA = await freePort();
    portB = await freePort();
    portKc = await freePort();
    env = {
      ...podmanEnv(),
      TESSERA_IMAGE: tessera.ref,
      REDIS_IMAGE: redis,
      FREERADIUS_IMAGE: freeradius,
      KEYCLOAK_IMAGE: keycloak,
      KEYCLOAK_PORT: String(portKc),
      RADIUS_SECRET: radiusSecret,
      RADIUS_PORT: String(radiusPort),
      TESSERA_A_PORT: String(portA),
      TESSERA_B_PORT: String(portB),
      DEMO_TOTP_SECRET: secret,
      TESSERA_LOG_LEVEL: 'warn',
    };
    const t = Date.now();
    compose(['up', '-d']);
    console.log(`# podman-compose up returned after ${Date.now() - t} ms`);
  });

  afterAll(() => {
    if (!env) return;
    compose(['down', '-v'], 180_000);
    // podman-compose 1.0 leaves the project's network behind
    spawnSync('podman', ['network', 'rm', '-f', `${project}_default`], { env });
  });

  test('every published port is on 127.0.0.1', () => {
    const ports = podman([
      'ps',
      '--filter',
      `label=io.podman.compose.project=${project}`,
      '--format',
      '{{.Ports}}',
    ]);
    assert.match(ports, /127\.0\.0\.1:\d+->1812\/udp/);
    assert.doesNotMatch(ports, /0\.0\.0\.0:/, ports);
  });

  test('the nodes come up as master and slave of one cluster', async () => {
    const urlA = `http://127.0.0.1:${portA}`;
    const urlB = `http://127.0.0.1:${portB}`;
    for (const url of [urlA, urlB]) {
      await waitFor(
        `${url}/readyz`,
        async () => (await fetch(`${url}/readyz`).catch(() => null))?.status === 200,
        180_000,
        500,
      ).catch((err) => {
        throw new Error(`${err}\n${logsOf('tessera-a')}\n${logsOf('tessera-b')}`);
      });
    }
    const adminKey = podman([
      'exec',
      container('tessera-a'),
      'node',
      '-p',
      "require('fs').readFileSync('/data/admin.key','utf8').trim()",
    ]).trim();
    assert.equal((await new Api(urlA, adminKey).ok('GET', '/v1/admin/cluster')).role, 'master');
    assert.equal((await new Api(urlB, adminKey).ok('GET', '/v1/admin/cluster')).role, 'slave');
  });

  test('radclient gets Access-Accept for PIN+TOTP through FreeRADIUS, then Access-Reject for the replay', async () => {
    const target = { port: radiusPort, secret: radiusSecret };
    // FreeRADIUS starts once the setup service has made its client key
    await waitFor(
      'FreeRADIUS to answer',
      async () => {
        const probe = await radAuth(target, { 'User-Name': 'nobody', 'User-Password': 'x' }, { timeoutS: 2 });
        return probe.code !== 'no-reply';
      },
      240_000,
      1000,
    ).catch((err) => {
      throw new Error(`${err}\n${logsOf('setup')}\n${logsOf('freeradius')}`);
    });
    await awaitFreshStep(8000);
    const pass = `1234${totpNow(secret)}`;
    const accept = await radAuth(target, { 'User-Name': 'demo', 'User-Password': pass });
    assert.equal(accept.code, 'Access-Accept', `${accept.transcript}\n${logsOf('freeradius')}`);
    const replay = await radAuth(target, { 'User-Name': 'demo', 'User-Password': pass });
    assert.equal(replay.code, 'Access-Reject', replay.transcript);
    const wrongPin = await radAuth(target, {
      'User-Name': 'demo',
      'User-Password': `9999${totpNow(secret, { offsetSteps: 1 })}`,
    });
    assert.equal(wrongPin.code, 'Access-Reject', wrongPin.transcript);
  });

  test('Keycloak: the realm is set up by `tessera keycloak setup` with the Tessera step in its browser flow', async () => {
    const kc = `http://127.0.0.1:${portKc}`;
    await waitFor(
      'keycloak-setup to finish',
      async () =>
        podman([
          'inspect',
          '--format',
          '{{.State.Status}} {{.State.ExitCode}}',
          container('keycloak-setup'),
        ]).trim() === 'exited 0',
      600_000,
      2000,
    ).catch((err) => {
      throw new Error(`${err}\n${logsOf('keycloak-setup')}\n${logsOf('keycloak')}`);
    });
    const tokenRes = await fetch(`${kc}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'admin-cli',
        username: 'admin',
        password: 'admin',
      }),
    });
    assert.equal(tokenRes.status, 200);
    const { access_token: token } = (await tokenRes.json()) as { access_token: string };
    const realm = (await (
      await fetch(`${kc}/admin/realms/tessera`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as {
      browserFlow: string;
    };
    const executions = (await (
      await fetch(
        `${kc}/admin/realms/tessera/authentication/flows/${encodeURIComponent(realm.browserFlow)}/executions`,
        {
          headers: { authorization: `Bearer ${token}` },
        },
      )
    ).json()) as { providerId?: string; requirement: string }[];
    const step = executions.find((e) => e.providerId === 'tessera-otp');
    assert.ok(step, `no tessera-otp step in ${realm.browserFlow}: ${JSON.stringify(executions)}`);
    assert.equal(step.requirement, 'REQUIRED');
  });
});
