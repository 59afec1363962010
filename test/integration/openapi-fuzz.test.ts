// The OpenAPI document (GET /docs/json) against a real node, under schemathesis: no 5xx, no answer
// that breaks its documented status, content type or schema, no schema-invalid request accepted and
// none that changes anything. Schemathesis's summary goes into the test output.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { ensureSchemathesis, type FuzzRun, runSchemathesis, summaryOf } from '../harness/schemathesis.ts';
import { Api, type Json, startTessera, type TesseraHandle } from '../harness/tessera.ts';

const CONFIG = join(import.meta.dirname, 'openapi-fuzz.toml');
/** Adds the check that a refused write changes nothing, request by request, to every run. */
const HOOKS = join(import.meta.dirname, 'openapi-fuzz-hooks.py');
/** Test cases per operation and phase; TESSERA_FUZZ_EXAMPLES=500 for a deeper run by hand. */
const EXAMPLES = Number(process.env.TESSERA_FUZZ_EXAMPLES ?? 20);
/** Every check schemathesis has, but the two about 405 for undeclared methods (Fastify answers 404). */
const EXCLUDED_CHECKS = 'unsupported_method,allow_header_conformance';
/** The admin face, and the snapshot a superadmin key may pull. */
const ADMIN_PATHS = '^/v1/(admin|cluster)/';
const CLIENT_PATHS = '^/(v1/validate|v1/cluster/|radius/|healthz|readyz|metrics)';
/**
 * Writes with nothing but path parameters to break. Pinned to real records (below), schemathesis's
 * "negative" variants of them differ only in headers the server rightly ignores, so they would
 * really delete or disable; their broken path parameters are a 400 in the main admin run.
 */
const BODYLESS_WRITES = [
  'deleteUser',
  'unlockUser',
  'disableUser',
  'enableUser',
  'deleteToken',
  'disableToken',
  'enableToken',
  'deleteClient',
  'deleteGroup',
  'revokeAdminKey',
];
/** Reads with no parameter and no body: the key is all a "negative" variant of them can break. */
const PARAMETERLESS_READS = [
  'listClients',
  'listGroups',
  'getSettings',
  'getCluster',
  'listAdminKeys',
  'getLatestSnapshot',
  'getLogging',
];

let st: { python: string; version: string };
let node: TesseraHandle;
let admin: Api;
let clientKey: string;
let workDir: string;
/** Records for refused requests to damage: a user with a PIN and a token, a group, a client. */
/**
 * Operations that connect to a host named in their input (a directory source's URL): never fuzzed
 * (and the node runs no directory schedule, which would sync a fuzzed source with an interval),
 * so generated host names never become traffic to an address off this machine.
 */
const NETWORK_OPS = ['testDirectorySource', 'syncDirectorySource'];

const seed = { username: 'fuzz-seed', serial: '', group: 'fuzz-group', clientId: '' };

async function fuzz(
  name: string,
  key: string,
  extra: string[],
  config = CONFIG,
  // About three times what the longest run takes on 2 busy cores (the admin run: ~105 s with the
  // push, YubiKey and mail/SMS routes); a run past it fails the test.
  budgetMs = 300_000 * Math.max(1, EXAMPLES / 20),
): Promise<FuzzRun> {
  const run = await runSchemathesis(
    st.python,
    [
      `${node.url}/docs/json`,
      '--header',
      `Authorization: Bearer ${key}`,
      '--checks',
      'all',
      '--exclude-checks',
      EXCLUDED_CHECKS,
      '--max-examples',
      String(EXAMPLES),
      // One worker: the node has the other core, and Python 3.11's ast module is not thread-safe
      // under hypothesis (parallel workers failed with "AST constructor recursion depth mismatch").
      '--workers',
      '1',
      '--generation-database',
      'none',
      '--no-color',
      ...extra,
    ],
    budgetMs,
    ['--config-file', config],
    { SCHEMATHESIS_HOOKS: HOOKS, TESSERA_FUZZ_URL: node.url, TESSERA_FUZZ_ADMIN_KEY: node.adminKey },
  );
  console.log(
    `\n# schemathesis ${st.version}, ${name}: exit ${run.code} in ${run.ms} ms\n${summaryOf(run)}\n`,
  );
  return run;
}

/** A run that lost its key would pass on 401s alone: make sure it ran as an admin to the end. */
async function assertStillAdmin(): Promise<void> {
  const r = await admin.call('GET', '/v1/admin/settings');
  assert.equal(r.status, 200, `the fuzzer's admin key stopped working: ${JSON.stringify(r.body)}`);
}

/** Fails with schemathesis's own words, and the node's log of any request it could not answer. */
function assertClean(run: FuzzRun): void {
  const faults = node
    .output()
    .split('\n')
    .filter((line) => /"level":(50|60)/.test(line))
    .slice(0, 5)
    .join('\n');
  assert.equal(
    run.code,
    0,
    `schemathesis found failures (its summary is above)\n${run.output.slice(-3000)}\n${faults}`,
  );
}

describe('the OpenAPI document holds against a running node (schemathesis)', () => {
  beforeAll(async () => {
    st = ensureSchemathesis();
    workDir = mkdtempSync(join(tmpdir(), 'tessera-fuzz-'));
    // Snapshots every 6 s, so the snapshot route has one to serve (a 200 with the sealed file).
    node = await startTessera({
      env: {
        TESSERA_SNAPSHOT_INTERVAL_MIN: '0.1',
        TESSERA_SNAPSHOT_KEEP: '2',
        // fuzzed sources name generated hosts; a scheduled sync would connect (or resolve) them
        TESSERA_DIRECTORY_SCHEDULE: 'false',
      },
    });
    admin = new Api(node.url, node.adminKey);
    await admin.ok('POST', '/v1/admin/groups', { name: seed.group });
    const token = await admin.createUserWithTotp(seed.username, { pin: '4711', user: { group: seed.group } });
    seed.serial = token.serial;
    seed.clientId = (await admin.ok('POST', '/v1/admin/clients', { name: 'fuzz-victim', kind: 'radius' })).id;
    // The documented request examples, and half the fuzzed logins, name alice (no PIN, one TOTP
    // token): they reach a challenge, and its second round. The fuzzer's wrong codes would throttle
    // her after 5 failures a minute (tested elsewhere), so the limits here are far higher.
    await admin.createUserWithTotp('alice');
    await admin.ok('PATCH', '/v1/admin/settings', {
      lockout: { threshold: 1000 },
      throttle: { failuresPerWindow: 10000 },
    });
    clientKey = await admin.createClient('api');
  });

  afterAll(async () => {
    await node?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  test('every route is documented with its answers, its security and links to follow', async () => {
    const res = await fetch(`${node.url}/docs/json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as Json;
    const operations: [string, string, Json][] = [];
    for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
      for (const [method, op] of Object.entries(item as Record<string, Json>)) {
        operations.push([method, path, op]);
      }
    }
    const ids = operations.map(([, , op]) => op.operationId);
    for (const id of ['validate', 'radiusAuth', 'radiusPostAuth', 'health', 'readiness', 'metrics']) {
      assert.ok(ids.includes(id), `${id} is documented`);
    }
    assert.ok(ids.includes('getLatestSnapshot'), 'the snapshot route is documented');
    assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
    for (const [method, path, op] of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      assert.ok(op.operationId, `${where} has an operationId`);
      // Who may call, as the contract says: admin keys /v1/admin/*, client keys the rest of /v1 and
      // /radius, nobody's key the operations routes; snapshots go to node clients or superadmins.
      // Paired phones (/v1/device/*) sign each request with their own key instead of a bearer key.
      const expected = path.startsWith('/v1/admin/')
        ? [{ adminKey: [] }]
        : path.startsWith('/v1/cluster/')
          ? [{ clientKey: [] }, { adminKey: [] }]
          : path.startsWith('/v1/device/')
            ? []
            : /^\/(v1|radius)\//.test(path)
              ? [{ clientKey: [] }]
              : [];
      assert.deepEqual(op.security, expected, `${where} states its security`);
      if (expected.length > 0) {
        assert.ok(op.responses['401'] && op.responses['403'], `${where} documents 401 and 403`);
      }
      for (const [status, answer] of Object.entries(op.responses as Record<string, Json>)) {
        // @fastify/swagger's text for a route that declares no answers.
        assert.notEqual(answer.description, 'Default Response', `${where} ${status} is described`);
        if (Number(status) >= 400) {
          const schema = JSON.stringify(answer.content?.['application/json']?.schema ?? {});
          assert.match(schema, /"error"/, `${where} ${status} answers the error envelope`);
        }
      }
    }
    const links = (id: string) => {
      const op = operations.find(([, , o]) => o.operationId === id)?.[2];
      return Object.keys(op?.responses['201']?.links ?? {});
    };
    for (const [from, to] of [
      ['createUser', 'getUser'],
      ['createUser', 'deleteUser'],
      ['enrolToken', 'deleteToken'],
      ['createClient', 'deleteClient'],
      ['createGroup', 'deleteGroup'],
    ] as const) {
      assert.ok(links(from).includes(to), `${from} links to ${to}`);
    }
  });

  test('a name as long as the schema allows is reachable by URL; a longer one is a 400', async () => {
    // 128 code points outside the BMP: 256 UTF-16 units, 1,536 characters percent-encoded.
    const longest = '\u{20000}'.repeat(128);
    const path = `/v1/admin/users/${encodeURIComponent(longest)}`;
    assert.equal((await admin.call('POST', '/v1/admin/users', { username: longest })).status, 201);
    const read = await admin.call('GET', path);
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.equal((await admin.call('DELETE', path)).status, 204);
    const tooLong = await admin.call('GET', `/v1/admin/users/${'a'.repeat(129)}`);
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.error.code, 'BAD_REQUEST');
  });

  test('requests that break the schema are refused and change nothing (admin key)', async () => {
    // Pinned to the seeded records, so a broken body meets a real user, token, client and group.
    const config = join(workDir, 'negative.toml');
    writeFileSync(
      config,
      `${readFileSync(CONFIG, 'utf8')}\n${Object.entries({
        'path.username': seed.username,
        'path.serial': seed.serial,
        'path.id': seed.clientId,
        'path.name': seed.group,
      })
        .map(([k, v]) => `"${k}" = "${v}"`)
        .join('\n')}\n`,
    );
    const har = join(workDir, 'negative.har');
    const run = await fuzz(
      'schema-breaking requests to /v1/admin/*',
      node.adminKey,
      [
        '--include-path-regex',
        ADMIN_PATHS,
        '--exclude-operation-id-regex',
        `^(${[...BODYLESS_WRITES, ...PARAMETERLESS_READS, ...NETWORK_OPS].join('|')})$`,
        '--mode',
        'negative',
        '--phases',
        'examples,coverage,fuzzing',
        '--report',
        'har',
        '--report-har-path',
        har,
      ],
      config,
    );
    assertClean(run);
    // The hooks' check compared the state around each of these; make sure there were plenty.
    const entries = JSON.parse(readFileSync(har, 'utf8')).log.entries as Json[];
    const refused = entries.filter((e) => e.request.method !== 'GET' && e.response.status >= 400);
    assert.ok(refused.length > 200, `only ${refused.length} refused writes to watch`);
    console.log(`# ${refused.length} refused writes, each checked to change nothing`);
  });

  test('validate, RADIUS, snapshot and operations answer as documented (client key)', async () => {
    const run = await fuzz('client key, validate/radius/cluster/ops', clientKey, [
      '--include-path-regex',
      CLIENT_PATHS,
    ]);
    assertClean(run);
    // The key still works, so the run was made as a client, not answered 401 throughout.
    await admin.createUserWithTotp('after-run');
    const answer = await admin.call('POST', '/v1/validate', { user: 'after-run' }, clientKey);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.result, 'challenge');
  });

  test('the admin API answers as documented, also stateful (create, read, delete)', async () => {
    // Revoking admin keys is left to the run below: here the fuzzer sees the key list, and once it
    // has made a second superadmin it could revoke the key it runs with and get 401s from then on.
    const run = await fuzz('admin key, /v1/admin/*', node.adminKey, [
      '--include-path-regex',
      ADMIN_PATHS,
      '--exclude-operation-id-regex',
      `^(${[...NETWORK_OPS, 'revokeAdminKey'].join('|')})$`,
    ]);
    assertClean(run);
    assert.match(run.output, /✅ Stateful/, 'the stateful phase ran and passed');
    await assertStillAdmin();
  });

  test('admin keys are created and revoked as documented (the fuzzer never sees its own key)', async () => {
    const run = await fuzz('admin key, create and revoke admin keys', node.adminKey, [
      '--include-operation-id-regex',
      '^(createAdminKey|revokeAdminKey)$',
    ]);
    assertClean(run);
    await assertStillAdmin();
  });
});
