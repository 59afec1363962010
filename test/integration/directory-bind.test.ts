import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { hotpAt } from '../harness/codes.ts';
import { type DirectoryNode, startDirectoryNode } from '../harness/directory.ts';
import type { SlapdProcess } from '../harness/slapd.ts';
import { Api, type Json, randomBase32, type TesseraHandle } from '../harness/tessera.ts';

const PW = 'Pool pw 7';
/** src/directory/bind-pool.ts DEFAULT_POOL.size: connections to one source at most. */
const POOL_SIZE = 4;
const TIMEOUT_MS = 1000;

// Directory binds for `firstFactor: "ldap"` go over a small bounded pool of connections, each bind
// bounded by the source's timeout: tried against a real slapd that answers, and one that hangs.
describe('directory binds: bounded pool and timeout (real node, real slapd)', () => {
  let dir: DirectoryNode;
  let slapd: SlapdProcess;
  let node: TesseraHandle;
  let client: Api;
  const secret = randomBase32();
  let counter = 0;
  const validate = async (body: Record<string, unknown>): Promise<Json> => {
    const r = await client.call('POST', '/v1/validate', body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  /** Samples slapd's connections while `work` runs; returns the largest count seen. */
  const peakConnections = async <T>(work: Promise<T>): Promise<{ result: T; peak: number }> => {
    let peak = slapd.connections();
    const timer = setInterval(() => {
      peak = Math.max(peak, slapd.connections());
    }, 20);
    try {
      const result = await work;
      peak = Math.max(peak, slapd.connections());
      return { result, peak };
    } finally {
      clearInterval(timer);
    }
  };

  beforeAll(async () => {
    dir = await startDirectoryNode({
      people: [{ uid: 'pia', cn: 'Pia Pool', password: PW }],
      source: { timeoutMs: TIMEOUT_MS, connectTimeoutMs: TIMEOUT_MS },
      tessera: { env: { TESSERA_LOG_LEVEL: 'debug' } },
    });
    ({ slapd, node } = dir);
    const admin = dir.admin;
    await admin.ok('POST', '/v1/admin/users/pia/tokens', { type: 'hotp', secret });
    // every request below is evaluated: no throttle, no lock
    await admin.ok('PATCH', '/v1/admin/settings', {
      throttle: { failuresPerWindow: 0 },
      lockout: { threshold: 1000 },
    });
    client = new Api(node.url, await admin.createClient('radius', { firstFactor: 'ldap' }));
  }, 120_000);
  afterAll(async () => {
    await dir?.stop();
  });

  test('logins reuse pooled connections: twenty in a row open no more than the pool', async () => {
    const { peak } = await peakConnections(
      (async () => {
        for (let i = 0; i < 20; i++) {
          const r = await validate({ user: 'pia', pass: `${PW}${hotpAt(secret, counter)}` });
          assert.equal(r.result, 'accept', JSON.stringify(r));
          counter++;
        }
      })(),
    );
    assert.ok(peak >= 1 && peak <= POOL_SIZE, `peak ${peak} connections`);
    // the connection stays open for the next login (a connection per login would be gone now)
    assert.ok(slapd.connections() >= 1);
  });

  test('sixty parallel logins never hold more than the pool open', async () => {
    const { result, peak } = await peakConnections(
      Promise.all(
        Array.from({ length: 60 }, (_, i) => validate({ user: 'pia', pass: i % 2 ? PW : 'wrong pw' })),
      ),
    );
    assert.ok(peak <= POOL_SIZE, `peak ${peak} connections`);
    // a right password alone gives a challenge, a wrong one PASSWORD_INVALID; a bind the full
    // pool and queue could not take is DIRECTORY_UNAVAILABLE, never a wrong password
    const outcome = (r: Json) => (r.result === 'challenge' ? 'challenge' : r.reason);
    result.forEach((r, i) => {
      const allowed =
        i % 2 ? ['challenge', 'DIRECTORY_UNAVAILABLE'] : ['PASSWORD_INVALID', 'DIRECTORY_UNAVAILABLE'];
      assert.ok(allowed.includes(outcome(r)), `${i}: ${JSON.stringify(r)}`);
    });
    assert.ok(result.filter((r) => r.result === 'challenge').length >= 10, result.map(outcome).join(','));
  });

  test('a directory that hangs: every bind ends at the timeout as DIRECTORY_UNAVAILABLE, and the pool recovers', async () => {
    slapd.pause();
    try {
      const started = Date.now();
      const { result, peak } = await peakConnections(
        Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            validate({ user: 'pia', pass: `${PW}${hotpAt(secret, counter + i)}` }),
          ),
        ),
      );
      const took = Date.now() - started;
      assert.ok(
        result.every((r) => r.result === 'reject' && r.reason === 'DIRECTORY_UNAVAILABLE'),
        result.map((r) => r.reason).join(','),
      );
      // a bind waits at most the timeout for a connection and the timeout for its answer
      assert.ok(took < 4 * TIMEOUT_MS + 2000, `the answers took ${took} ms`);
      assert.ok(peak <= POOL_SIZE, `peak ${peak} connections to a hanging directory`);
    } finally {
      slapd.resume();
    }
    const r = await validate({ user: 'pia', pass: `${PW}${hotpAt(secret, counter)}` });
    assert.equal(r.result, 'accept', JSON.stringify(r));
    counter++;
    assert.ok(!node.output().includes(PW), 'the password is in the log');
  });
});
