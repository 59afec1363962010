import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type AdminContext, createClient, createUser, enrolToken } from '../../src/admin/index.ts';
import { CallerDirectory, Validator } from '../../src/auth/index.ts';
import { KeyRing } from '../../src/crypto/index.ts';
import { type AuditEvent, DEFAULT_SETTINGS } from '../../src/model/index.ts';
import { timeStep, totpAt } from '../../src/otp/index.ts';
import { SAMPLE_SECRET, SAMPLE_TOTP } from '../../src/store/fixtures.ts';
import { openEmbeddedStore } from '../../src/store/index.ts';
import { validatePlugin } from './index.ts';

const SECRET = SAMPLE_SECRET;
const params = SAMPLE_TOTP;

/** A host application that is not a Tessera node: its own Fastify, its own services, one face. */
describe('a host app registers plugin/validate alone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-host-'));
  const store = openEmbeddedStore(dir);
  const keyring = KeyRing.generate();
  const audited: AuditEvent[] = [];
  const audit = { record: (e: AuditEvent) => void audited.push(e) };
  const validator = new Validator({ store, keyring, settings: async () => DEFAULT_SETTINGS, audit });
  const admin: AdminContext = { store, keyring, settings: async () => DEFAULT_SETTINGS, audit: () => {} };
  let app: FastifyInstance;
  let apiKey: string;

  beforeAll(async () => {
    ({ apiKey } = await createClient(admin, { name: 'host', kind: 'api' }));
    await createUser(admin, { username: 'alice' });
    await enrolToken(admin, 'alice', { type: 'totp', secret: SECRET });
    app = Fastify();
    app.get('/host/open', async () => ({ host: true }));
    await app.register(validatePlugin, { prefix: '/v1', validator, callers: new CallerDirectory(store) });
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const validate = (body: object, key: string | null = apiKey) =>
    app.inject({
      method: 'POST',
      url: '/v1/validate',
      headers: key ? { authorization: `Bearer ${key}` } : {},
      payload: body,
    });

  test('a right code is accepted once, then refused as reused', async () => {
    const code = totpAt(params, timeStep(Date.now(), 30));
    const first = await validate({ user: 'alice', pass: code });
    assert.equal(first.statusCode, 200);
    assert.equal(first.json().result, 'accept');
    const again = await validate({ user: 'alice', pass: code });
    assert.equal(again.statusCode, 200);
    assert.deepEqual([again.json().result, again.json().reason], ['reject', 'OTP_REUSED']);
    assert.ok(audited.some((e) => e.username === 'alice' && e.result === 'accept'));
  });

  test('a wrong code is a reject with its reason', async () => {
    const r = await validate({
      user: 'alice',
      pass: '000000' === totpAt(params, timeStep(Date.now(), 30)) ? '111111' : '000000',
    });
    assert.deepEqual([r.json().result, r.json().reason], ['reject', 'OTP_INVALID']);
  });

  test('the face answers its own errors in the contract shape, with no key or a bad body', async () => {
    const noKey = await validate({ user: 'alice', pass: '123456' }, null);
    assert.equal(noKey.statusCode, 401);
    assert.equal(noKey.json().error.code, 'UNAUTHORIZED');
    const wrongKey = await validate({ user: 'alice', pass: '123456' }, `${apiKey}x`);
    assert.equal(wrongKey.statusCode, 401);
    const bad = await validate({ pass: '123456' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'BAD_REQUEST');
  });

  test('its caller check stays inside the face: the host route needs no key', async () => {
    const r = await app.inject({ method: 'GET', url: '/host/open' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { host: true });
    assert.ok(app.hasPlugin('tessera-validate'));
  });
});
