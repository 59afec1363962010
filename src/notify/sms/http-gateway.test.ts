import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { SmsGateway } from '../../../test/harness/sms-gateway.ts';
import { makeTlsMaterial, type TlsMaterial } from '../../../test/harness/tls.ts';
import { type HttpGatewayConfig, httpGateway } from './http-gateway.ts';

const Gateway = SmsGateway;

const message = { otp: '042917', text: 'Your code: 042917', issuer: 'ACME' };

function config(base: string, over: Partial<HttpGatewayConfig> = {}): HttpGatewayConfig {
  return {
    url: `http://${base}/send`,
    method: 'POST',
    headers: {},
    body: {
      format: 'json',
      template: { to: '{phone}', text: 'Code {otp}', meta: { n: 1, raw: '{message}' } },
    },
    successStatus: [],
    timeoutMs: 2000,
    tlsVerify: true,
    ...over,
  };
}

describe('HTTP SMS gateway', () => {
  const gw = new Gateway();
  let base = '';
  beforeAll(async () => {
    base = await gw.listen();
  });
  afterAll(() => gw.close());

  test('JSON body: placeholders filled inside strings, basic auth and own headers sent', async () => {
    gw.received = [];
    const send = httpGateway(
      config(base, { basicAuth: { user: 'acct', password: 's3cr:et' }, headers: { 'x-api-key': 'k-123' } }),
    );
    assert.deepEqual(await send.send('+41 79 123 45 67', message), { ok: true });
    const [got] = gw.received;
    assert.equal(got?.method, 'POST');
    assert.equal(got?.url, '/send');
    assert.equal(got?.headers['content-type'], 'application/json');
    assert.equal(got?.headers['x-api-key'], 'k-123');
    assert.equal(got?.headers.authorization, `Basic ${Buffer.from('acct:s3cr:et').toString('base64')}`);
    assert.deepEqual(JSON.parse(got?.body ?? ''), {
      to: '+41791234567',
      text: 'Code 042917',
      meta: { n: 1, raw: 'Your code: 042917' },
    });
  });

  test('a value cannot break out of its JSON string', async () => {
    gw.received = [];
    const send = httpGateway(config(base));
    await send.send('+4179', { otp: '1"}, "x": "y', text: 'a\\"b', issuer: 'ACME' });
    const body = JSON.parse(gw.received[0]?.body ?? '');
    assert.equal(body.text, 'Code 1"}, "x": "y');
    assert.equal(body.x, undefined);
  });

  test('form body and URL placeholders are URL-encoded', async () => {
    gw.received = [];
    const send = httpGateway(
      config(base, {
        url: `http://${base}/api?to={phone}&n={digits}`,
        body: { format: 'form', template: { number: '{phone}', msg: '{message}' } },
      }),
    );
    assert.deepEqual(await send.send('+4179123', { otp: '1', text: 'Code: 1 & more', issuer: 'ACME' }), {
      ok: true,
    });
    const got = gw.received[0];
    assert.equal(got?.url, '/api?to=%2B4179123&n=4179123');
    assert.equal(got?.headers['content-type'], 'application/x-www-form-urlencoded');
    const form = new URLSearchParams(got?.body);
    assert.equal(form.get('number'), '+4179123');
    assert.equal(form.get('msg'), 'Code: 1 & more');
  });

  test('GET without a body', async () => {
    gw.received = [];
    const send = httpGateway(
      config(base, { method: 'GET', url: `http://${base}/s?otp={otp}`, body: { format: 'none' } }),
    );
    assert.deepEqual(await send.send('+4179123', message), { ok: true });
    assert.equal(gw.received[0]?.method, 'GET');
    assert.equal(gw.received[0]?.url, '/s?otp=042917');
    assert.equal(gw.received[0]?.body, '');
  });

  test('a 500 is refused with its status, and nothing of the message leaks in the detail', async () => {
    gw.answer = (res) => res.writeHead(500).end('boom 042917');
    const r = await httpGateway(config(base)).send('+4179123', message);
    assert.deepEqual(r, { ok: false, why: 'refused', detail: 'HTTP 500' });
    gw.answer = (res) => res.writeHead(200).end('{"status":"queued"}');
  });

  test('success and failure body matches decide on a 200', async () => {
    gw.answer = (res) => res.writeHead(200).end('{"error":"no credit"}');
    const withFailure = httpGateway(config(base, { failureBody: '"error"' }));
    assert.equal((await withFailure.send('+4179123', message)).ok, false);
    const withSuccess = httpGateway(config(base, { successBody: '"status":"queued"' }));
    assert.equal((await withSuccess.send('+4179123', message)).ok, false);
    gw.answer = (res) => res.writeHead(202).end('{"status":"queued"}');
    assert.equal((await withSuccess.send('+4179123', message)).ok, true);
    const only201 = httpGateway(config(base, { successStatus: [201] }));
    assert.deepEqual(await only201.send('+4179123', message), {
      ok: false,
      why: 'refused',
      detail: 'HTTP 202',
    });
    gw.answer = (res) => res.writeHead(200).end('{"status":"queued"}');
  });

  test('a gateway that hangs is given up at the timeout, not later', async () => {
    gw.answer = () => {}; // never answers
    const started = Date.now();
    const r = await httpGateway(config(base, { timeoutMs: 300 })).send('+4179123', message);
    const took = Date.now() - started;
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.why, 'timeout');
    assert.ok(took >= 290 && took < 1500, `took ${took} ms`);
    gw.answer = (res) => res.writeHead(200).end('ok');
  });

  test('a gateway that is down is unreachable at once', async () => {
    const down = new Gateway();
    const addr = await down.listen();
    await down.close();
    const r = await httpGateway(config(addr)).send('+4179123', message);
    assert.deepEqual(r, { ok: false, why: 'unreachable', detail: 'ECONNREFUSED' });
  });

  test('not a phone number: nothing is sent', async () => {
    gw.received = [];
    const r = await httpGateway(config(base)).send('call me', message);
    assert.equal(r.ok, false);
    assert.equal(gw.received.length, 0);
  });
});

describe('HTTPS SMS gateway: certificate checks', () => {
  let tls: TlsMaterial;
  let gw: SmsGateway;
  let base = '';
  beforeAll(async () => {
    tls = makeTlsMaterial();
    gw = new Gateway(tls);
    base = await gw.listen();
  });
  afterAll(async () => {
    await gw.close();
    tls.remove();
  });

  const https = (over: Partial<HttpGatewayConfig>) => config(base, { url: `https://${base}/send`, ...over });

  test('an unknown CA is refused while verifying; the right CA file or verification off sends', async () => {
    const unknown = await httpGateway(https({})).send('+4179123', message);
    assert.equal(unknown.ok, false);
    assert.equal(!unknown.ok && unknown.why, 'unreachable');
    const other = await httpGateway(https({ caFile: tls.otherCaFile })).send('+4179123', message);
    assert.equal(other.ok, false);
    assert.deepEqual(await httpGateway(https({ caFile: tls.caFile })).send('+4179123', message), {
      ok: true,
    });
    assert.deepEqual(await httpGateway(https({ tlsVerify: false })).send('+4179123', message), { ok: true });
  });
});
