import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { awaitFreshStep, totpNow } from '../harness/codes.ts';
import { slapdSource } from '../harness/directory.ts';
import { personLdif, type SlapdProcess, startSlapd } from '../harness/slapd.ts';
import { type SmtpHandle, smtpEnv, startSmtp } from '../harness/smtp.ts';
import { Api, type Json, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';
import { csrfOf, Visitor } from './portal-visitor.ts';

const secretOf = (html: string) => /id="secret">([A-Z2-7 ]+)</.exec(html)?.[1]?.replace(/ /g, '') ?? '';
const linkOf = (text: string) => /http:\/\/\S+\/portal\/i\/[A-Za-z0-9_-]+/.exec(text)?.[0] ?? '';
const settle = () => new Promise((r) => setTimeout(r, 1500));

describe('a directory sync invites the users it creates (real slapd, real SMTP, real node)', () => {
  let slapd: SlapdProcess;
  let smtp: SmtpHandle;
  let node: TesseraHandle;
  let admin: Api;
  let client: Api;

  beforeAll(async () => {
    slapd = await startSlapd();
    slapd.ldif(personLdif({ uid: 'si-ann', cn: 'Ann Sync', mail: 'si-ann@example.test' }));
    slapd.ldif(personLdif({ uid: 'si-bob', cn: 'Bob Sync', mail: 'si-bob@example.test' }));
    slapd.ldif(personLdif({ uid: 'si-nomail', cn: 'No Mail' }));
    smtp = await startSmtp();
    node = await startTessera({ env: smtpEnv(smtp, { TESSERA_LOG_LEVEL: 'info' }) });
    admin = new Api(node.url, node.adminKey);
    client = new Api(node.url, await admin.createClient('api'));
  }, 120_000);
  afterAll(async () => {
    await node?.stop();
    await smtp?.close();
    await slapd?.stop();
  });

  const source = (over: Json = {}) => slapdSource(slapd, over);

  test('the setting is schema-checked and shown back', async () => {
    const bad = await admin.call('POST', '/v1/admin/directory/sources', source({ inviteNewUsers: 'yes' }));
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    const made = await admin.ok('POST', '/v1/admin/directory/sources', source({ inviteNewUsers: true }));
    assert.equal(made.inviteNewUsers, true);
    const listed = await admin.ok('GET', '/v1/admin/directory/sources');
    assert.equal(listed.items.find((s: Json) => s.name === 'corp').inviteNewUsers, true);
  });

  test('a dry run invites nobody', async () => {
    const dry = await admin.ok('POST', '/v1/admin/directory/sources/corp/sync?dryRun=true');
    assert.equal(dry.created, 3);
    assert.equal(dry.invited, 0);
    await settle();
    assert.equal(smtp.mails.length, 0);
    assert.equal((await admin.ok('GET', '/v1/admin/invitations')).items.length, 0);
  });

  test('a sync mails each created user with an address one working link; a second sync mails none', async () => {
    const run = await admin.ok('POST', '/v1/admin/directory/sources/corp/sync');
    assert.equal(run.created, 3);
    assert.equal(run.invited, 2, 'the user without a mail address is not invited');
    const mails = await Promise.all(
      ['si-ann', 'si-bob'].map((u) => smtp.waitForMail(`${u}@example.test`, /Set up/)),
    );
    const links = mails.map((m) => linkOf(m.text));
    assert.ok(links.every((l) => l !== ''));
    assert.notEqual(links[0], links[1]);

    // each link opens its user's enrolment; one is followed through to an active token
    for (const [i, user] of ['si-ann', 'si-bob'].entries()) {
      const page = await new Visitor(node.url).get(links[i]!);
      assert.equal(page.status, 200, page.html);
      assert.match(secretOf(page.html), /^[A-Z2-7]{32}$/);
      assert.equal((await admin.ok('GET', `/v1/admin/users/${user}`)).tokens[0].status, 'pending');
    }
    const v = new Visitor(node.url);
    const page = await v.get(links[0]!);
    const secret = secretOf(page.html);
    await awaitFreshStep();
    const done = await v.post('/portal/enrol', { _csrf: csrfOf(page.html), code: totpNow(secret) });
    assert.equal(done.status, 303, done.html);
    const login = await client.ok('POST', '/v1/validate', {
      user: 'si-ann',
      pass: totpNow(secret, { offsetSteps: 1 }),
    });
    assert.equal(login.result, 'accept');

    const audit = (await admin.ok('GET', '/v1/admin/audit?limit=100')).items as Json[];
    const sent = audit.filter((e) => e.type === 'invitation.send').map((e) => e.username);
    assert.deepEqual(sent.sort(), ['si-ann', 'si-bob']);
    assert.ok(audit.some((e) => e.type === 'directory.sync' && /invited=2/.test(String(e.result))));

    await smtp.waitForMail('si-ann@example.test', /is set up/);
    const before = smtp.mails.length;
    const again = await admin.ok('POST', '/v1/admin/directory/sources/corp/sync');
    assert.equal(again.created, 0);
    assert.equal(again.invited, 0);
    await settle();
    assert.equal(smtp.mails.length, before, 'a second sync sends no invitation again');
    // bob's link still works: the second sync revoked nothing
    assert.equal((await new Visitor(node.url).get(links[1]!)).status, 200);
  });

  test('`tessera directory sync` invites too, and waits for the mail before it exits', async () => {
    slapd.ldif(personLdif({ uid: 'si-cli', cn: 'Cli Sync', mail: 'si-cli@example.test' }));
    const r = await runCli(['directory', 'sync', '--source', 'corp'], {
      ...smtpEnv(smtp),
      TESSERA_DATA_DIR: node.dataDir,
    });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /corp: created 1, .* invited 1 in/);
    // the CLI process has exited: the mail was handed over before it did
    assert.ok(smtp.mails.some((m) => m.to.includes('si-cli@example.test') && linkOf(m.text) !== ''));
  });
});
