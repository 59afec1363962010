import assert from 'node:assert/strict';
import { type StartedTesseraCluster, TesseraClusterContainers } from 'tessera/testcontainers';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { awaitFreshStep, totpNow } from '../harness/codes.ts';
import { buildServiceImage, buildTesseraImage, ensureEngine, podman } from '../harness/podman.ts';
import { Api, randomBase32 } from '../harness/tessera.ts';

// TesseraClusterContainers: two nodes, each beside its own Redis, the second replicating the first.
// The master node's container is killed; logins go on at the survivor.
describe('TesseraClusterContainers: a master/replica pair on a network (podman)', () => {
  let cluster: StartedTesseraCluster;
  const secret = randomBase32();

  beforeAll(async () => {
    await ensureEngine();
    const [tessera, redis] = [await buildTesseraImage(), await buildServiceImage('redis')];
    const t = Date.now();
    cluster = await new TesseraClusterContainers(tessera.ref, redis)
      .withUsers({ username: 'carol', pin: '2468', tokens: [{ type: 'totp', secret }] })
      .start();
    console.log(`# cluster of 4 containers started and seeded in ${Date.now() - t} ms`);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  test('each node learned its role from its Redis; the replica refuses configuration writes', async () => {
    const roleOf = async (url: string, key: string) =>
      (await new Api(url, key).ok('GET', '/v1/admin/cluster')).role as string;
    assert.equal(await roleOf(cluster.master.getBaseUrl(), cluster.master.getAdminApiKey()), 'master');
    assert.equal(await roleOf(cluster.replica.getBaseUrl(), cluster.replica.getAdminApiKey()), 'slave');
    const write = await new Api(cluster.replica.getBaseUrl(), cluster.replica.getAdminApiKey()).call(
      'POST',
      '/v1/admin/users',
      { username: 'mallory' },
    );
    assert.equal(write.status, 409);
    assert.equal(write.body.error.code, 'READ_ONLY_REPLICA');
  });

  test('a code accepted at one node is refused at the other', async () => {
    await awaitFreshStep(8000);
    const pass = `2468${totpNow(secret)}`;
    const atMaster = await new Api(cluster.master.getBaseUrl(), cluster.master.getClientApiKey()).call(
      'POST',
      '/v1/validate',
      { user: 'carol', pass },
    );
    assert.equal(atMaster.body.result, 'accept', JSON.stringify(atMaster.body));
    const atReplica = await new Api(cluster.replica.getBaseUrl(), cluster.replica.getClientApiKey()).call(
      'POST',
      '/v1/validate',
      { user: 'carol', pass },
    );
    assert.equal(atReplica.body.result, 'reject');
    assert.equal(atReplica.body.reason, 'OTP_REUSED');
  });

  test('the master node is killed; logins go on at the survivor, and a replayed code stays refused', async () => {
    podman(['kill', '--signal', 'KILL', cluster.master.getId()]);
    const state = podman(['inspect', '--format', '{{.State.Running}}', cluster.master.getId()]).trim();
    assert.equal(state, 'false');
    const survivor = new Api(cluster.replica.getBaseUrl(), cluster.replica.getClientApiKey());
    const next = totpNow(secret, { offsetSteps: 1 });
    // the next step's code is within the default window; the previous one was used already
    const login = await survivor.call('POST', '/v1/validate', { user: 'carol', pass: `2468${next}` });
    assert.equal(login.body.result, 'accept', JSON.stringify(login.body));
    const replay = await survivor.call('POST', '/v1/validate', { user: 'carol', pass: `2468${next}` });
    assert.equal(replay.body.result, 'reject');
    const wrongPin = await survivor.call('POST', '/v1/validate', {
      user: 'carol',
      pass: `1111${totpNow(secret, { offsetSteps: 1 })}`,
    });
    assert.equal(wrongPin.body.result, 'reject');
  });
});
