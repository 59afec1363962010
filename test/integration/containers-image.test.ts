import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type StartedTesseraContainer, TesseraContainer } from 'tessera/testcontainers';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { awaitFreshStep, totpNow } from '../harness/codes.ts';
import { type BuiltImage, buildTesseraImage, ensureEngine, podman, podmanEnv } from '../harness/podman.ts';
import { freePort, waitFor } from '../harness/ports.ts';
import { Api, randomBase32 } from '../harness/tessera.ts';

// The image built from docker/Dockerfile on a real engine (podman's Docker API), and the
// testcontainers module driving it as a user's CI would.
describe('the container image and TesseraContainer (podman)', () => {
  let image: BuiltImage;
  let node: StartedTesseraContainer;
  const secret = randomBase32();

  beforeAll(async () => {
    const started = Date.now();
    await ensureEngine();
    image = await buildTesseraImage();
    console.log(
      `# image ${image.ref}: ${(image.size / 1e6).toFixed(1)} MB, built in ${image.buildMs} ms ` +
        `(engine and base images ready after ${Date.now() - started - image.buildMs} ms)`,
    );
    const t = Date.now();
    node = await new TesseraContainer(image.ref)
      .withUsers({ username: 'alice', pin: '4711', tokens: [{ type: 'totp', secret }] })
      .withClient('vpn', 'radius')
      .start();
    console.log(`# TesseraContainer started and seeded in ${Date.now() - t} ms`);
  });

  afterAll(async () => {
    await node?.stop();
  });

  test('the image is small, runs as a non-root user, keeps data in a volume and checks /readyz', () => {
    console.log(`# image size: ${(image.size / 1e6).toFixed(1)} MB (goal: under 150 MB)`);
    assert.ok(image.size < 150e6, `image is ${image.size} bytes`);
    const [inspect] = JSON.parse(podman(['image', 'inspect', image.ref])) as {
      Config: { User: string; Volumes: Record<string, unknown>; StopSignal: string; Env: string[] };
      // podman keeps it beside Config (Docker inside it)
      Healthcheck?: { Test: string[] };
    }[];
    const config = inspect!.Config;
    assert.equal(config.User, '10001:10001');
    assert.deepEqual(Object.keys(config.Volumes), ['/data']);
    assert.deepEqual(inspect!.Healthcheck?.Test, ['CMD', 'node', '/app/docker/healthcheck.mjs']);
    assert.equal(config.StopSignal, 'SIGTERM');
    assert.ok(config.Env.includes('TESSERA_DATA_DIR=/data'));
  });

  test('published on 127.0.0.1 only', () => {
    const ports = podman(['port', node.getId()]);
    assert.match(ports, /^8080\/tcp -> 127\.0\.0\.1:\d+$/m);
    assert.doesNotMatch(ports, /0\.0\.0\.0/);
    assert.equal(node.getHost(), '127.0.0.1');
  });

  test('a seeded user logs in with PIN+TOTP through the validate URL; the same code twice is refused', async () => {
    await awaitFreshStep();
    const client = new Api(node.getBaseUrl(), node.getClientApiKey());
    const code = totpNow(secret);
    const body = { user: 'alice', pass: `4711${code}` };
    assert.ok(node.getValidateUrl().endsWith('/v1/validate'));
    const first = await client.call('POST', '/v1/validate', body);
    assert.equal(first.status, 200);
    assert.equal(first.body.result, 'accept');
    const again = await client.call('POST', '/v1/validate', body);
    assert.equal(again.body.result, 'reject');
    assert.equal(again.body.reason, 'OTP_REUSED');
    const wrong = await client.call('POST', '/v1/validate', {
      user: 'alice',
      pass: `0000${totpNow(secret, { offsetSteps: 1 })}`,
    });
    assert.equal(wrong.body.result, 'reject');
  });

  test('enrolment through the admin API (server-made secret), then a login with the new token', async () => {
    const admin = new Api(node.getBaseUrl(), node.getAdminApiKey());
    await admin.ok('POST', '/v1/admin/users', { username: 'bob' });
    const token = await admin.ok('POST', '/v1/admin/users/bob/tokens', { type: 'totp' });
    const enrolled = new URL(token.otpauthUri as string).searchParams.get('secret');
    assert.ok(enrolled, token.otpauthUri);
    await awaitFreshStep();
    const radius = new Api(node.getBaseUrl(), node.getClientApiKey('vpn'));
    const ok = await radius.call('POST', '/v1/validate', { user: 'bob', pass: totpNow(enrolled) });
    assert.equal(ok.body.result, 'accept', JSON.stringify(ok.body));
  });

  test('keys are checked as on any node: none, a wrong one, and the admin key at validate are refused', async () => {
    const api = new Api(node.getBaseUrl(), '');
    const body = { user: 'alice', pass: '4711000000' };
    assert.equal((await api.call('POST', '/v1/validate', body)).status, 401);
    const forged = `tessera-client.${randomBytes(9).toString('base64url')}.${randomBytes(32).toString('base64url')}`;
    assert.equal((await api.call('POST', '/v1/validate', body, forged)).status, 401);
    assert.equal((await api.call('POST', '/v1/validate', body, node.getAdminApiKey())).status, 403);
    assert.equal(
      (await api.call('GET', '/v1/admin/users/alice', undefined, node.getClientApiKey())).status,
      403,
    );
  });

  test('withAdminKey: the node installs the given key and keeps no copy; a malformed key stops the start', async () => {
    const key = TesseraContainer.generateAdminKey();
    const own = await new TesseraContainer(image.ref).withAdminKey(key).start();
    try {
      assert.equal(own.getAdminApiKey(), key);
      const keys = await new Api(own.getBaseUrl(), key).ok('GET', '/v1/admin/admin-keys');
      assert.deepEqual(
        keys.map((k: { id: string }) => k.id),
        [key.split('.')[1]],
      );
      const files = (await own.exec(['node', '-p', "require('fs').readdirSync('/data').join(' ')"])).stdout;
      assert.ok(!files.includes('admin.key'), files);
    } finally {
      await own.stop();
    }
    const bad = `tessera-client.${key.split('.').slice(1).join('.')}`;
    const res = spawnSync('podman', ['run', '--rm', '-e', `TESSERA_ADMIN_KEY=${bad}`, image.ref], {
      env: podmanEnv(),
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.notEqual(res.status, 0);
    assert.match(`${res.stdout}${res.stderr}`, /TESSERA_ADMIN_KEY: the value is not allowed/);
    assert.equal(`${res.stdout}${res.stderr}`.includes(bad), false);
  });

  test('read-only root filesystem, the seed key from a secret file, healthy, and a graceful stop on SIGTERM', async () => {
    const port = await freePort();
    const name = `tessera-ro-${process.pid}`;
    const secretDir = podman(['volume', 'create', `${name}-secrets`]).trim();
    const key = randomBytes(32).toString('base64');
    try {
      // the secret is written by a throwaway container, as an orchestrator's secret mount would be
      podman([
        'run',
        '--rm',
        '--user',
        '0',
        '-v',
        `${secretDir}:/run/secrets`,
        '--entrypoint',
        'node',
        image.ref,
        '-e',
        `require('fs').writeFileSync('/run/secrets/master_key', '${key}\\n', { mode: 0o444 })`,
      ]);
      podman([
        'run',
        '-d',
        '--name',
        name,
        '--read-only',
        '-p',
        `127.0.0.1:${port}:8080`,
        '-v',
        `${secretDir}:/run/secrets:ro`,
        '-e',
        'TESSERA_MASTER_KEY_FILE=/run/secrets/master_key',
        image.ref,
      ]);
      await waitFor(
        'the read-only container to be ready',
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
          return res?.status === 200;
        },
        60_000,
        250,
      );
      podman(['healthcheck', 'run', name], { what: 'the image HEALTHCHECK' });
      const files = podman([
        'exec',
        name,
        'node',
        '-e',
        "console.log(require('fs').readdirSync('/data').sort().join(' '))",
      ]);
      assert.ok(files.includes('admin.key'), files);
      assert.ok(!files.includes('master.key'), `the seed key came from the file, none was made: ${files}`);
      const t = Date.now();
      podman(['stop', '--time', '20', name]);
      const stopMs = Date.now() - t;
      const exit = podman(['inspect', '--format', '{{.State.ExitCode}}', name]).trim();
      const logs = podman(['logs', name]);
      assert.equal(exit, '0', logs.slice(-2000));
      assert.ok(stopMs < 10_000, `stop took ${stopMs} ms`);
      assert.match(logs, /shutting down/);
      assert.equal(logs.includes(key), false);
    } finally {
      podman(['rm', '-f', '-v', name]);
      podman(['volume', 'rm', '-f', `${name}-secrets`]);
    }
  });
});
