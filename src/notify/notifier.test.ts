import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { freePort } from '../../test/harness/ports.ts';
import { type SmtpHandle, startSmtp } from '../../test/harness/smtp.ts';
import { makeTlsMaterial, type TlsMaterial } from '../../test/harness/tls.ts';
import type { SmtpConfig } from './mailer.ts';
import { Notifier, type NotifyConfig } from './notifier.ts';
import { TEMPLATE_NAMES } from './templates.ts';

const FAST = { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 50, capacity: 20 };

function smtpConfig(port: number, extra: Partial<SmtpConfig> = {}): SmtpConfig {
  return {
    host: '127.0.0.1',
    port,
    security: 'none',
    from: 'Tessera <otp@tessera.test>',
    timeoutMs: 3000,
    ...extra,
  };
}

function notifier(config: Partial<NotifyConfig>, log?: { warn(o: object, m: string): void }) {
  const registry = new Registry();
  const n = new Notifier({ disabled: [], adminAddresses: [], ...config }, registry, log, FAST);
  return { n, registry };
}

async function metric(registry: Registry, name: string, template: string): Promise<number> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.filter((v) => v.labels.template === template).reduce((a, v) => a + v.value, 0);
}

describe('mail through a real SMTP conversation', () => {
  let tls: TlsMaterial;
  let plain: SmtpHandle;
  let starttls: SmtpHandle;
  let implicit: SmtpHandle;
  const auth = { user: 'tessera', password: 'smtp-pass-9f2c' };

  beforeAll(async () => {
    tls = makeTlsMaterial();
    plain = await startSmtp();
    starttls = await startSmtp({
      auth,
      tls: { mode: 'starttls', certFile: tls.certFile, keyFile: tls.keyFile },
    });
    implicit = await startSmtp({ auth, tls: { mode: 'tls', certFile: tls.certFile, keyFile: tls.keyFile } });
  });
  afterAll(async () => {
    await Promise.all([plain?.close(), starttls?.close(), implicit?.close()]);
    tls?.remove();
  });

  test('every template renders a subject, a text and an HTML part', async () => {
    const { n } = notifier({ smtp: smtpConfig(plain.port) });
    for (const name of TEMPLATE_NAMES) {
      assert.equal(
        n.send(name, `${name}@example.test`, { name: 'Ann', issuer: 'ACME', link: 'http://l/x', left: 3 }),
        true,
      );
    }
    await n.idle();
    for (const name of TEMPLATE_NAMES) {
      const mail = await plain.waitForMail(`${name}@example.test`);
      assert.ok(mail.subject.length > 3 && !mail.subject.startsWith('Subject'), `${name}: ${mail.subject}`);
      assert.ok(mail.text.length > 10, name);
      assert.ok(mail.html.includes('<p>'), name);
      assert.equal(mail.from, 'otp@tessera.test');
    }
    n.close();
  });

  test('STARTTLS with a login: the conversation is encrypted and authenticated', async () => {
    const { n } = notifier({
      smtp: smtpConfig(starttls.port, { security: 'starttls', ...auth, caFile: tls.caFile }),
    });
    n.send('invitation', 'bob@example.test', {
      name: 'Bob',
      issuer: 'ACME',
      link: 'http://x/portal/i/abc',
      expires: 'soon',
    });
    const mail = await starttls.waitForMail('bob@example.test');
    assert.equal(mail.secure, true);
    assert.equal(mail.user, 'tessera');
    assert.match(mail.text, /http:\/\/x\/portal\/i\/abc/);
    n.close();
  });

  test('TLS from the first byte, and a wrong password is retried and then given up, counted', async () => {
    const ok = notifier({
      smtp: smtpConfig(implicit.port, { security: 'tls', ...auth, caFile: tls.caFile }),
    });
    ok.n.send('enrolment-done', 'carol@example.test', { name: 'Carol' });
    assert.equal((await implicit.waitForMail('carol@example.test')).secure, true);
    ok.n.close();
    const lines: string[] = [];
    const bad = notifier(
      {
        smtp: smtpConfig(implicit.port, {
          security: 'tls',
          user: auth.user,
          password: 'wrong-pass-77',
          caFile: tls.caFile,
        }),
      },
      { warn: (o, m) => lines.push(JSON.stringify(o) + m) },
    );
    bad.n.send('enrolment-done', 'dave@example.test', { name: 'Dave' });
    await bad.n.idle();
    assert.equal(await metric(bad.registry, 'tessera_mail_dead_letter_total', 'enrolment-done'), 1);
    assert.equal(
      await metric(bad.registry, 'tessera_mail_retry_total', 'enrolment-done'),
      FAST.maxAttempts - 1,
    );
    assert.equal(
      implicit.mails.some((m) => m.to.includes('dave@example.test')),
      false,
    );
    assert.equal(lines.length, 1);
    assert.equal(lines.join().includes('wrong-pass-77'), false, 'the SMTP password is never logged');
    bad.n.close();
  });

  test('a server that refuses for a while gets the mail on a later try', async () => {
    const { n, registry } = notifier({ smtp: smtpConfig(plain.port) });
    plain.refuseNext(2);
    n.send('account-locked', 'erin@example.test', { name: 'Erin', until: 'later' });
    await plain.waitForMail('erin@example.test');
    assert.equal(await metric(registry, 'tessera_mail_retry_total', 'account-locked'), 2);
    assert.equal(await metric(registry, 'tessera_mail_sent_total', 'account-locked'), 1);
    n.close();
  });

  test('sending never waits: an unreachable server costs the caller nothing', async () => {
    const dead = await freePort();
    const { n, registry } = notifier({ smtp: smtpConfig(dead) });
    const started = performance.now();
    for (let i = 0; i < 20; i++) n.send('account-locked', `f${i}@example.test`, { name: 'F' });
    assert.ok(performance.now() - started < 200, 'enqueueing 20 mails took too long');
    await n.idle();
    // 10 fit the queue (each given up after its tries), 10 found it full
    assert.equal(await metric(registry, 'tessera_mail_dead_letter_total', 'account-locked'), 20);
    n.close();
  });

  test('a template switched off is not sent; an operator file replaces one template, HTML escaped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-templates-'));
    try {
      writeFileSync(
        join(dir, 'invitation.txt.eta'),
        'Subject: Welcome aboard, <%= it.name %>\n\nGo to <%= it.link %>\n',
      );
      writeFileSync(join(dir, 'invitation.html.eta'), '<p>Welcome <%= it.name %></p>');
      const { n, registry } = notifier({
        smtp: smtpConfig(plain.port),
        templateDir: dir,
        disabled: ['account-locked'],
      });
      assert.equal(n.send('account-locked', 'gina@example.test', { name: 'Gina' }), false);
      n.send('invitation', 'hank@example.test', { name: 'Hank <script>x</script>', link: 'http://l' });
      n.send('enrolment-done', 'hank@example.test', { name: 'Hank' });
      await n.idle();
      const invite = await plain.waitForMail('hank@example.test', /^Welcome aboard/);
      assert.equal(invite.subject, 'Welcome aboard, Hank <script>x</script>');
      assert.match(invite.html, /Welcome Hank &lt;script&gt;/);
      assert.ok(
        await plain.waitForMail('hank@example.test', /set up/),
        'the built-in template for the others',
      );
      assert.equal(
        plain.mails.some((m) => m.to.includes('gina@example.test')),
        false,
      );
      const skipped = (await registry.getSingleMetric('tessera_mail_skipped_total')?.get())?.values ?? [];
      assert.ok(skipped.some((v) => v.labels.template === 'account-locked' && v.labels.why === 'disabled'));
      n.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('admin notices go to every admin address', async () => {
    const { n } = notifier({
      smtp: smtpConfig(plain.port),
      adminAddresses: ['ops1@example.test', 'ops2@example.test'],
    });
    n.toAdmins('admin-directory-sync', { source: 'corp', problem: 'unreachable', when: 'now' });
    await plain.waitForMail('ops1@example.test', /directory sync problem: corp/);
    await plain.waitForMail('ops2@example.test', /directory sync problem: corp/);
    n.close();
  });
});
