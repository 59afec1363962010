import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { Api, type Json, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';

const LOGINS = 2500;

// GET /v1/admin/audit/export and `tessera audit export` on a real node: every entry once, in the
// format asked, across many pages.
describe('the audit trail exports as CSV and JSON lines', () => {
  let node: TesseraHandle;
  let admin: Api;
  let client: Api;

  const download = async (query: string) => {
    const res = await fetch(`${node.url}/v1/admin/audit/export?${query}`, {
      headers: { authorization: `Bearer ${node.adminKey}` },
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };

  beforeAll(async () => {
    node = await startTessera();
    admin = new Api(node.url, node.adminKey);
    client = new Api(node.url, await admin.createClient('api'));
    await admin.createUserWithTotp('ex-alice');
    // more than two pages of the export, so paging is exercised
    for (let i = 0; i < LOGINS; i += 50)
      await Promise.all(
        Array.from({ length: 50 }, () =>
          client.ok('POST', '/v1/validate', { user: 'ex-alice', pass: '000000' }),
        ),
      );
    // a name chosen at a login prompt that a spreadsheet would run
    await client.call('POST', '/v1/validate', { user: '=cmd|calc', pass: '1' });
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
  });

  test('JSON lines: one event a line, every auth event once, newest first', async () => {
    const r = await download('format=jsonl&stream=auth');
    assert.equal(r.status, 200);
    assert.match(r.type, /application\/x-ndjson/);
    const lines = r.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Json);
    assert.equal(lines.length, LOGINS + 1);
    assert.ok(lines.every((e) => e.stream === 'auth' && e.type === 'validate'));
    for (let i = 1; i < lines.length; i++) assert.ok(lines[i - 1].time >= lines[i].time);
    const times = new Set(lines.map((e) => `${e.time}:${e.detail.latencyMs}:${e.username}`));
    assert.ok(times.size > 1);
  });

  test('CSV: a header, then one row per event; a formula is made text', async () => {
    const r = await download('format=csv');
    assert.equal(r.status, 200);
    assert.match(r.type, /text\/csv/);
    const rows = r.text.split('\r\n').filter(Boolean);
    assert.equal(
      rows[0],
      'time,stream,type,actor,username,serial,result,reason,sourceIp,nasIdentifier,nasIpAddress,detail',
    );
    const all = (await admin.ok('GET', '/v1/admin/audit?limit=1000&stream=admin')).items.length;
    assert.ok(rows.length >= 1 + LOGINS + 1 + all, String(rows.length));
    assert.ok(
      rows.some((row) => row.includes(",'=cmd|calc,")),
      'the formula is quoted as text',
    );
    assert.ok(!rows.some((row) => row.includes(',=cmd')));
  });

  test('a time range bounds the export; bad queries are a 400 naming the parameter', async () => {
    const future = await download(`format=jsonl&from=${Date.now() + 3_600_000}`);
    assert.equal(future.status, 200);
    assert.equal(future.text, '');
    for (const [query, names] of [
      ['format=xml', 'format'],
      ['', 'format'],
      ['format=csv&stream=all', 'stream'],
      ['format=csv&from=2026-02-01&to=2026-01-01', 'to'],
      ['format=csv&user=alice', 'user'],
    ] as const) {
      const r = await download(query);
      assert.equal(r.status, 400, query);
      const body = JSON.parse(r.text);
      assert.equal(body.error.code, 'BAD_REQUEST');
      assert.match(body.error.message, new RegExp(names), query);
    }
  });

  test('`tessera audit export` writes the same rows to a file', async () => {
    await admin.ok('GET', '/v1/admin/audit?limit=1'); // flushes the buffered events
    const { dataDir } = node;
    const out = join(tmpdir(), `tessera-export-${process.pid}.jsonl`);
    const env = { TESSERA_DATA_DIR: dataDir };
    const res = await runCli(['audit', 'export', '--format', 'jsonl', '--stream', 'auth', '--out', out], env);
    assert.equal(res.code, 0, res.out + res.err);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, LOGINS + 1);
    const bad = await runCli(['audit', 'export', '--format', 'pdf'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--format/);
  });
});
