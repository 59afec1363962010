import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, test } from 'vitest';
import { startTessera } from '../harness/tessera.ts';

describe('tessera serve stops cleanly', () => {
  test('SIGTERM ends the process within the grace period despite a half-sent request', {
    timeout: 30_000,
  }, async () => {
    const node = await startTessera({ env: { TESSERA_LOG_LEVEL: 'info' } });
    // A caller that opened a request and never finished it: without a cut, Node's server would wait
    // for its 60 s header timeout before the process could exit.
    const socket = connect(node.port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write('POST /v1/validate HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    socket.on('error', () => {});
    // Let the server accept it before the signal.
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await node.stop();
    const took = Date.now() - started;
    socket.destroy();
    assert.ok(took < 15_000, `stop took ${took} ms`);
    assert.match(node.output(), /shutting down/, node.output().slice(-1000));
  });
});
