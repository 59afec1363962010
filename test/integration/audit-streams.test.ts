import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { Api, type Json, startTessera, type TesseraHandle } from '../harness/tessera.ts';

// GET /v1/admin/audit over a real node: one stream, or all of them merged, newest first.
describe('the admin API lists audit streams', () => {
  let node: TesseraHandle;
  let admin: Api;
  let client: Api;

  beforeAll(async () => {
    node = await startTessera();
    admin = new Api(node.url, node.adminKey);
    client = new Api(node.url, await admin.createClient('api'));
    await admin.createUserWithTotp('as-alice');
    // login traffic after the admin changes
    for (let i = 0; i < 200; i++)
      await client.ok('POST', '/v1/validate', { user: 'as-alice', pass: '000000' });
  });

  afterAll(async () => {
    await node?.stop();
  });

  test('?stream=admin holds the admin changes, whatever the login traffic after them', async () => {
    const items: Json[] = (await admin.ok('GET', '/v1/admin/audit?stream=admin&limit=10')).items;
    const types = items.map((e) => e.type);
    assert.ok(types.includes('user.create'), JSON.stringify(types));
    assert.ok(types.includes('token.enrol'), JSON.stringify(types));
    assert.ok(!types.includes('validate'));
  });

  test('?stream=auth holds only validate decisions, newest first', async () => {
    const items: Json[] = (await admin.ok('GET', '/v1/admin/audit?stream=auth&limit=1000')).items;
    assert.equal(items.length, 200);
    assert.ok(
      items.every((e) => e.type === 'validate' && e.username === 'as-alice' && e.result === 'reject'),
    );
    for (let i = 1; i < items.length; i++) assert.ok(items[i - 1].time >= items[i].time);
  });

  test('without a stream every stream is merged, newest first, as before', async () => {
    const items: Json[] = (await admin.ok('GET', '/v1/admin/audit?limit=1000')).items;
    assert.ok(items.length >= 202);
    assert.equal(items[0].type, 'validate');
    assert.ok(items.some((e) => e.type === 'user.create'));
  });

  test('an unknown stream is a 400 with a stable code', async () => {
    const r = await admin.call('GET', '/v1/admin/audit?stream=everything');
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'BAD_REQUEST');
  });
});
