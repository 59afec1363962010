import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'vitest';
import { freePort, freeUdpPort, StopWaiting, waitFor } from './ports.ts';

test('free ports come from below the ephemeral range and can be bound', async () => {
  const port = await freePort();
  assert.ok(port >= 20_000 && port < 32_768, `port ${port}`);
  const srv = createServer();
  await new Promise<void>((ok, fail) => {
    srv.once('error', fail);
    srv.listen(port, '127.0.0.1', ok);
  });
  srv.close();
  const udp = await freeUdpPort();
  assert.ok(udp >= 20_000 && udp < 32_768, `port ${udp}`);
});

test('waitFor gives up at once when the probe says waiting cannot help', async () => {
  const started = Date.now();
  await assert.rejects(
    waitFor(
      'a process that has exited',
      async () => {
        throw new StopWaiting('exited with 1');
      },
      10_000,
    ),
    /exited with 1/,
  );
  assert.ok(Date.now() - started < 1_000);
});

test('waitFor ends at its deadline when a probe never answers, naming what it waited for', async () => {
  const started = Date.now();
  await assert.rejects(
    waitFor('a server that accepts and never answers', () => new Promise<boolean>(() => {}), 300),
    /timed out after 300 ms waiting for a server that accepts and never answers: .*did not answer/,
  );
  assert.ok(Date.now() - started < 2_000);
});
