// The console's self-service actions as a person does them: enrolment invitations for a selection
// of users (mailed to a real SMTP listener), a helpdesk temporary code after a device is marked
// lost (shown once, then good for one login over /v1/validate), and which roles may do either. Also
// the choice that a helpdesk sees a user's last logins (permission logins:read) but not the
// audit trail.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { launchBrowser, type TestBrowser } from '../harness/browser.ts';
import { awaitFreshStep, totpNow } from '../harness/codes.ts';
import { type SmtpHandle, smtpEnv, startSmtp } from '../harness/smtp.ts';
import { Api, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';
import { assertAccessible, signIn } from './console-support.ts';

const LINK = /http:\/\/\S+\/portal\/i\/[A-Za-z0-9_-]{43}/;
const CODE = /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/;

interface AuditItem {
  type: string;
  actor?: string;
  result?: string;
  detail?: Record<string, string>;
}

describe('console: invitations and temporary codes', () => {
  let smtp: SmtpHandle;
  let node: TesseraHandle;
  let api: Api;
  let clientKey = '';
  const browsers: TestBrowser[] = [];
  const people: Record<string, Page> = {};

  /** A console account made with the CLI, signed in (its TOTP enrolled) in a browser of its own. */
  async function person(username: string, role: 'superadmin' | 'helpdesk' | 'auditor'): Promise<Page> {
    const made = await runCli(['console', 'add-admin', '--username', username, '--role', role], {
      TESSERA_DATA_DIR: node.dataDir,
    });
    assert.equal(made.code, 0, made.err);
    const b = await launchBrowser({ viewport: { width: 1280, height: 900 } });
    browsers.push(b);
    const page = await b.context.newPage();
    await signIn(page, node.url, username, made.out.trim());
    return page;
  }

  async function adminAudit(): Promise<AuditItem[]> {
    return (await api.ok('GET', '/v1/admin/audit?stream=admin&limit=200')).items as AuditItem[];
  }

  beforeAll(async () => {
    smtp = await startSmtp();
    node = await startTessera({ env: smtpEnv(smtp) });
    api = new Api(node.url, node.adminKey);
    clientKey = await api.createClient('api');
    people.boss = await person('boss', 'superadmin');
    people.hd = await person('hd', 'helpdesk');
    people.aud = await person('aud', 'auditor');
  });
  afterAll(async () => {
    for (const b of browsers) await b.close();
    await node?.stop();
    await smtp?.close();
  });

  test('bulk "send enrolment invite": two mails with links, the user without an address skipped', async () => {
    await api.ok('POST', '/v1/admin/users', { username: 'ivy', email: 'ivy@example.test' });
    await api.ok('POST', '/v1/admin/users', { username: 'jon', email: 'jon@example.test' });
    await api.ok('POST', '/v1/admin/users', { username: 'kai' });
    const page = people.boss!;
    await page.goto(`${node.url}/ui/users`);
    await page.getByLabel('Select ivy').check();
    await page.getByLabel('Select jon').check();
    await page.getByLabel('Action').selectOption({ label: 'Send enrolment invite' });
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('2 invitation(s) sent.').waitFor();
    await assertAccessible(page);

    const ivy = await smtp.waitForMail('ivy@example.test', /Set up your second factor/);
    const jon = await smtp.waitForMail('jon@example.test', /Set up your second factor/);
    const links = [LINK.exec(ivy.text)?.[0], LINK.exec(jon.text)?.[0]];
    assert.ok(links[0] && links[1], 'each mail carries a portal link');
    assert.notEqual(links[0], links[1], 'each user gets a link of their own');
    for (const link of links) assert.equal((await fetch(link!)).status, 200, `${link} opens the portal`);

    // A selection with a user who has no mail address: the others are invited, that one reported.
    const before = smtp.mails.length;
    await page.getByLabel('Select ivy').check();
    await page.getByLabel('Select kai').check();
    await page.getByLabel('Action').selectOption({ label: 'Send enrolment invite' });
    await page.getByRole('button', { name: 'Apply' }).click();
    // the page before showed a flash too: wait for this action's message, then read it whole
    await page.getByText('1 invitation(s) sent.').waitFor();
    assert.match(
      (await page.locator('.flash').textContent()) ?? '',
      /^1 invitation\(s\) sent\. Skipped \(no mail address\): kai\.$/,
    );
    await smtp.waitForMail('ivy@example.test', /Set up your second factor/);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(smtp.mails.length, before + 1, 'one more mail, none for kai');

    const sends = (await adminAudit()).filter((e) => e.type === 'invitation.send');
    assert.equal(sends.length, 3, 'each invitation audited once');
    for (const e of sends) {
      assert.equal(e.actor, 'console:boss');
      assert.equal(e.detail?.role, 'superadmin');
    }
    // the invitation API sees the console's invitations: the same operation, the same records
    const listed = (await api.ok('GET', '/v1/admin/invitations')).items as {
      username: string;
      status: string;
    }[];
    assert.deepEqual(
      listed
        .filter((i) => i.status === 'open')
        .map((i) => i.username)
        .sort(),
      ['ivy', 'jon'],
    );
  });

  test('a helpdesk marks a token lost and issues a temporary code: shown once, good for one login', async () => {
    const { serial, secret } = await api.createUserWithTotp('lou');
    await awaitFreshStep();
    const login = await api.call('POST', '/v1/validate', { user: 'lou', pass: totpNow(secret) }, clientKey);
    assert.equal(login.body.result, 'accept');

    const page = people.hd!;
    await page.goto(`${node.url}/ui/users/lou`);
    await page.getByRole('button', { name: `Mark lost ${serial}` }).click();
    await page.getByText(/marked lost.*issue a temporary code below/).waitFor();

    // bad input comes back as the form with the error next to the field, and issues nothing
    await page.getByLabel('Valid for (minutes)').fill('0');
    await page.getByRole('button', { name: 'Issue temporary code' }).click();
    await page.locator('#f-tc-minutes-err').waitFor();
    assert.equal(await page.locator('#revealed').count(), 0);

    await page.getByLabel('Use', { exact: true }).selectOption('once');
    await page.getByLabel('Valid for (minutes)').fill('30');
    await page.getByRole('button', { name: 'Issue temporary code' }).click();
    const code = ((await page.locator('#revealed').textContent()) ?? '').trim();
    assert.match(code, CODE);
    await assertAccessible(page);
    await page.reload();
    assert.equal(await page.locator('#revealed').count(), 0, 'the code is shown once');
    assert.ok(!(await page.content()).includes(code));

    const first = await api.call('POST', '/v1/validate', { user: 'lou', pass: code }, clientKey);
    assert.equal(first.body.result, 'accept', JSON.stringify(first.body));
    const again = await api.call('POST', '/v1/validate', { user: 'lou', pass: code }, clientKey);
    assert.notEqual(again.body.result, 'accept', 'a one-time code works once');
    // the lost token stays refused
    await awaitFreshStep();
    const lost = await api.call('POST', '/v1/validate', { user: 'lou', pass: totpNow(secret) }, clientKey);
    assert.notEqual(lost.body.result, 'accept');

    const issued = (await adminAudit()).filter((e) => e.type === 'temporary-code.issue');
    assert.equal(issued.length, 1);
    assert.equal(issued[0]!.actor, 'console:hd');
    assert.equal(issued[0]!.detail?.role, 'helpdesk');
    assert.equal(issued[0]!.detail?.oneTime, 'true');
    assert.ok(!JSON.stringify(issued).includes(code.replace(/-/g, '')), 'the code is in no audit record');
    assert.ok(!JSON.stringify(issued).includes(code));
  });

  test('a time-limited code works more than once until it expires', async () => {
    await api.createUserWithTotp('max');
    const page = people.boss!;
    await page.goto(`${node.url}/ui/users/max`);
    await page.getByLabel('Use', { exact: true }).selectOption('until-expiry');
    await page.getByLabel('Valid for (minutes)').fill('5');
    await page.getByRole('button', { name: 'Issue temporary code' }).click();
    const code = ((await page.locator('#revealed').textContent()) ?? '').trim();
    assert.match(code, CODE);
    for (let i = 0; i < 2; i++) {
      const r = await api.call('POST', '/v1/validate', { user: 'max', pass: code }, clientKey);
      assert.equal(r.body.result, 'accept', `use ${i + 1}`);
    }
  });

  test('an auditor gets no temporary-code form, and a forged request is refused with no code', async () => {
    const page = people.aud!;
    await page.goto(`${node.url}/ui/users/lou`);
    await page.getByRole('heading', { name: 'User lou' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Issue temporary code' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /Mark lost/ }).count(), 0);
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const forged = await page.request.post(`${node.url}/ui/users/lou/temporary-code`, {
      form: { _csrf: csrf, use: 'once', validMinutes: '60' },
      maxRedirects: 0,
    });
    assert.equal(forged.status(), 403);
    const body = await forged.text();
    assert.match(body, /Not open to your role/);
    assert.match(body, /auditor.*tokens:write/);
    assert.doesNotMatch(body, /[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}/);
    const bulk = await page.request.post(`${node.url}/ui/users/bulk`, {
      form: { _csrf: csrf, u: 'ivy', action: 'invite' },
      maxRedirects: 0,
    });
    assert.equal(bulk.status(), 403, 'an auditor sends no invitation');

    const audit = await adminAudit();
    assert.equal(
      audit.filter((e) => e.type === 'temporary-code.issue' && e.actor === 'console:aud').length,
      0,
    );
    assert.ok(
      audit.some(
        (e) =>
          e.type === 'admin.denied' && e.actor === 'console:aud' && e.detail?.permission === 'tokens:write',
      ),
      'the refusal is audited',
    );
  });

  test("a helpdesk sees a user's last logins (logins:read) but not the audit trail (audit:read)", async () => {
    const page = people.hd!;
    await page.goto(`${node.url}/ui/users/lou`);
    const logins = page.locator('section', { has: page.getByRole('heading', { name: 'Last logins' }) });
    await logins.waitFor();
    const rows = await logins.locator('tbody tr').allTextContents();
    assert.ok(
      rows.some((r) => r.includes('accept')),
      `lou's logins listed: ${rows.join(' | ')}`,
    );
    const trail = await page.goto(`${node.url}/ui/logs`);
    assert.equal(trail?.status(), 403);
    assert.match((await page.locator('.notice').textContent()) ?? '', /helpdesk.*audit:read/);
    const nav = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
    assert.ok(!nav.includes('Logs'));
    // the auditor, who reads the trail, sees them as well
    await people.aud!.goto(`${node.url}/ui/users/lou`);
    await people.aud!.getByRole('heading', { name: 'Last logins' }).waitFor();
  });
});
