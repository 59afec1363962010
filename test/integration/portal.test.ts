import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { awaitFreshStep, totpNow } from '../harness/codes.ts';
import { type SmtpHandle, smtpEnv, startSmtp } from '../harness/smtp.ts';
import { Api, type Json, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';
import { csrfOf, Visitor } from './portal-visitor.ts';

const secretOf = (html: string) => /id="secret">([A-Z2-7 ]+)</.exec(html)?.[1]?.replace(/ /g, '') ?? '';

describe('self-service portal over HTTP (real node, real SMTP)', () => {
  let smtp: SmtpHandle;
  let node: TesseraHandle;
  let admin: Api;
  let client: Api;
  beforeAll(async () => {
    smtp = await startSmtp();
    node = await startTessera({ env: smtpEnv(smtp, { TESSERA_LOG_LEVEL: 'info' }) });
    admin = new Api(node.url, node.adminKey);
    client = new Api(node.url, await admin.createClient('api'));
  });
  afterAll(async () => {
    await node?.stop();
    await smtp?.close();
  });

  async function invite(username: string, body: Json = {}): Promise<string> {
    await admin.ok('POST', '/v1/admin/users', { username, email: `${username}@example.test` });
    const sent = await admin.ok('POST', `/v1/admin/users/${username}/invitations`, body);
    assert.equal(sent.mailed, true);
    assert.equal(JSON.stringify(sent).includes('/portal/i/'), false, 'the API never returns the link');
    const mail = await smtp.waitForMail(`${username}@example.test`, /Set up/);
    return /http:\/\/\S+\/portal\/i\/[A-Za-z0-9_-]+/.exec(mail.text)![0];
  }

  test('invitation link → pending token that authenticates nothing → a proved code activates it; the link then refuses', async () => {
    const link = await invite('p-ann');
    const v = new Visitor(node.url);
    const page = await v.get(link);
    assert.equal(page.status, 200);
    assert.equal(page.res.headers.get('cache-control'), 'no-store');
    assert.match(page.res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const secret = secretOf(page.html);
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const pending = (await admin.ok('GET', '/v1/admin/users/p-ann')).tokens;
    assert.deepEqual(
      pending.map((t: Json) => t.status),
      ['pending'],
    );
    await awaitFreshStep();
    const early = await client.ok('POST', '/v1/validate', { user: 'p-ann', pass: totpNow(secret) });
    assert.equal(early.result, 'reject', 'a pending token never authenticates');
    assert.equal(early.reason, 'NO_TOKEN');
    const waiting = await admin.ok('GET', '/v1/admin/invitations?notEnrolled=true');
    assert.ok(waiting.items.some((i: Json) => i.username === 'p-ann' && i.status === 'open'));

    const noCsrf = await v.post('/portal/enrol', { code: totpNow(secret, { offsetSteps: 1 }) });
    assert.equal(noCsrf.status, 403, 'a form without its CSRF token is refused');
    const wrong = await v.post('/portal/enrol', {
      _csrf: csrfOf(page.html),
      code: totpNow(secret, { offsetSteps: 5 }),
    });
    assert.equal(wrong.status, 400);
    assert.match(wrong.html, /not right/);
    const ok = await v.post('/portal/enrol', {
      _csrf: csrfOf(wrong.html),
      code: totpNow(secret, { offsetSteps: 1 }),
    });
    assert.equal(ok.status, 303, ok.html);
    assert.equal(ok.location, '/portal/?done=enrolled');
    const home = await v.get('/portal/?done=enrolled');
    assert.match(home.html, /Your authenticator is set up/);
    assert.match(home.html, /an invitation link/);
    assert.equal((await admin.ok('GET', '/v1/admin/users/p-ann')).tokens[0].status, 'active');
    await smtp.waitForMail('p-ann@example.test', /is set up/);
    const later = await client.ok('POST', '/v1/validate', {
      user: 'p-ann',
      pass: totpNow(secret, { offsetSteps: 2 }),
    });
    assert.equal(later.result, 'accept');
    const again = await new Visitor(node.url).get(link);
    assert.equal(again.status, 410);
    assert.match(again.html, /used already/);
    assert.equal(node.output().includes(link.slice(-43)), false, "the link's secret is never logged");
  });

  test('forged, expired and revoked links are refused with a page that says why', async () => {
    const forged = await new Visitor(node.url).get(`/portal/i/${'A'.repeat(43)}`);
    assert.equal(forged.status, 404);
    assert.match(forged.html, /This link is not valid/);
    const expiring = await invite('p-exp', { ttlHours: 0.0005 });
    await new Promise((r) => setTimeout(r, 2000)); // past its 1.8 s lifetime: the expiry is the event
    const expired = await new Visitor(node.url).get(expiring);
    assert.equal(expired.status, 410);
    assert.match(expired.html, /has expired/);
    await admin.ok('POST', '/v1/admin/users', { username: 'p-rev', email: 'p-rev@example.test' });
    await admin.ok('POST', '/v1/admin/users/p-rev/invitations', {});
    const first = /http:\/\/\S+\/portal\/i\/[A-Za-z0-9_-]+/.exec(
      (await smtp.waitForMail('p-rev@example.test')).text,
    )![0];
    assert.deepEqual(await admin.ok('DELETE', '/v1/admin/users/p-rev/invitations'), { revoked: 1 });
    const revoked = await new Visitor(node.url).get(first);
    assert.equal(revoked.status, 410);
    assert.match(revoked.html, /withdrawn/);
  });

  test('"Later" keeps the link working; the same secret is shown again', async () => {
    const link = await invite('p-later');
    const v = new Visitor(node.url);
    const page = await v.get(link);
    const later = await v.post('/portal/enrol/later', { _csrf: csrfOf(page.html) });
    assert.equal(later.status, 200);
    assert.match(later.html, /keeps working until/);
    const back = await new Visitor(node.url).get(link);
    assert.equal(back.status, 200);
    assert.equal(secretOf(back.html), secretOf(page.html));
  });

  test('portal sign-in: the code is required, failures count toward the same throttle as logins, and are audited', async () => {
    const { secret } = await admin.createUserWithTotp('p-sign');
    const v = new Visitor(node.url);
    const start = await v.get('/portal/');
    let csrf = csrfOf(start.html);
    const noCode = await v.post('/portal/signin', { _csrf: csrf, username: 'p-sign', code: '' });
    assert.equal(noCode.status, 401);
    const reasons: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await v.post('/portal/signin', { _csrf: csrf, username: 'p-sign', code: '000000' });
      reasons.push(r.status);
      csrf = csrfOf(r.html);
      if (i === 5) assert.match(r.html, /try again in a minute/);
    }
    assert.deepEqual(reasons, [401, 401, 401, 401, 401, 401]);
    // the throttle is the one logins use: /v1/validate refuses too
    const viaApi = await client.ok('POST', '/v1/validate', { user: 'p-sign', pass: totpNow(secret) });
    assert.equal(viaApi.reason, 'USER_THROTTLED');
    await admin.ok('POST', '/v1/admin/users/p-sign/unlock');
    await awaitFreshStep();
    const ok = await v.post('/portal/signin', { _csrf: csrf, username: 'p-sign', code: totpNow(secret) });
    assert.equal(ok.status, 303);
    assert.match((await v.get('/portal/')).html, /My sign-in devices/);
    const audit = (await admin.ok('GET', '/v1/admin/audit?limit=200')).items as Json[];
    const portal = audit.filter((e) => e.username === 'p-sign' && e.actor === 'client:portal');
    assert.ok(portal.some((e) => e.result === 'accept'));
    assert.ok(portal.filter((e) => e.result === 'reject').length >= 5);
  });

  test('a helpdesk temporary code works once over /v1/validate and is mailed to a second address', async () => {
    await admin.createUserWithTotp('p-temp');
    const issued = await admin.ok('POST', '/v1/admin/users/p-temp/temporary-code', {
      mailTo: 'p-temp-home@example.test',
      validMinutes: 10,
    });
    assert.match(issued.code, /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
    assert.equal(issued.oneTime, true);
    const mail = await smtp.waitForMail('p-temp-home@example.test', /temporary/);
    assert.ok(mail.text.includes(issued.code));
    const first = await client.ok('POST', '/v1/validate', { user: 'p-temp', pass: issued.code });
    assert.equal(first.result, 'accept');
    const second = await client.ok('POST', '/v1/validate', { user: 'p-temp', pass: issued.code });
    assert.equal(second.reason, 'OTP_INVALID');
    const audit = (await admin.ok('GET', '/v1/admin/audit?limit=200')).items as Json[];
    const event = audit.find((e) => e.type === 'temporary-code.issue' && e.username === 'p-temp');
    assert.ok(event);
    assert.equal(JSON.stringify(audit).includes(issued.code), false);
    assert.match(
      await (await fetch(`${node.url}/metrics`)).text(),
      /^tessera_one_time_codes_used_total\{kind="temporary"\} 1$/m,
    );
  });

  test('the CLI sends an invitation too, and revokes it', async () => {
    await admin.ok('POST', '/v1/admin/users', { username: 'p-cli' });
    const env = {
      TESSERA_DATA_DIR: node.dataDir,
      TESSERA_PORTAL_URL: `${node.url}/portal/`,
      ...smtpEnv(smtp),
    };
    const sent = await runCli(
      ['user', 'invite', 'p-cli', '--send-to', 'p-cli@example.test', '--ttl-hours', '2'],
      env,
    );
    assert.equal(sent.code, 0, sent.err);
    const view = JSON.parse(sent.out);
    assert.equal(view.status, 'open');
    assert.equal(view.createdBy, 'cli');
    assert.ok(Math.abs(view.expiresAt - view.createdAt - 2 * 3_600_000) < 1000);
    const link = /http:\/\/\S+\/portal\/i\/[A-Za-z0-9_-]+/.exec(
      (await smtp.waitForMail('p-cli@example.test')).text,
    )![0];
    assert.equal((await new Visitor(node.url).get(link)).status, 200);
    const revoked = await runCli(['user', 'uninvite', 'p-cli'], env);
    assert.deepEqual(JSON.parse(revoked.out), { revoked: 1 });
    assert.equal((await new Visitor(node.url).get(link)).status, 410);
  });

  test('a form post of the wrong shape is a 400 page, never a 5xx', async () => {
    const v = new Visitor(node.url);
    const page = await v.get('/portal/');
    const csrf = csrfOf(page.html);
    for (const body of [
      { _csrf: csrf, username: 5, code: ['1'] },
      { _csrf: csrf, username: 'x'.repeat(5000), code: '1' },
    ]) {
      const r = await fetch(`${node.url}/portal/signin`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: v.cookieHeader() },
        body: JSON.stringify(body),
      });
      assert.equal(r.status, 400, await r.text());
      assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    }
  });
});
