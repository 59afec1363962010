import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { GENERIC_REJECT, MAX_BODY_BYTES, parseAuthBody, renderDecision, stateOctets } from './rlm-rest.ts';

const attr = (type: string, ...value: Array<string | number>) => ({ type, value });
const body = (o: Record<string, unknown>) => Buffer.from(JSON.stringify(o), 'utf8');
const generic = { challengeText: 'Enter your one-time code', rejectDetail: 'generic' as const };
const detailed = { challengeText: 'Code?', rejectDetail: 'reason' as const };

describe('parseAuthBody (rlm_rest body = json)', () => {
  test("undoes rlm_rest's byte-per-character escapes of UTF-8 (captured from FreeRADIUS 3.2)", () => {
    // FreeRADIUS sent User-Name "ｄave\u200b" and User-Password "pä55" as these escapes
    const wire = Buffer.from(
      '{"User-Name":{"type":"string","value":["\\u00EF\\u00BD\\u0084ave\\u00E2\\u0080\\u008B"]},' +
        '"User-Password":{"type":"string","value":["p\\u00C3\\u00A455"]}}',
    );
    const r = parseAuthBody(wire);
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.request.user, 'ｄave\u200b');
    assert.equal(r.request.pass, 'pä55');
    // a hand-written caller's real text in the Latin-1 range stays as it is
    const plain = parseAuthBody(
      body({ 'User-Name': attr('string', 'müller'), 'User-Password': attr('string', '1') }),
    );
    assert.ok(plain.ok);
    assert.equal(plain.request.user, 'müller');
    const wide = parseAuthBody(
      body({ 'User-Name': attr('string', 'ｄａｖｅ'), 'User-Password': attr('string', '1') }),
    );
    assert.ok(wide.ok);
    assert.equal(wide.request.user, 'ｄａｖｅ');
  });

  test('reads the fields as rlm_rest sends them (captured on the wire)', () => {
    const r = parseAuthBody(
      body({
        'User-Name': attr('string', 'bob'),
        'User-Password': attr('string', '4711123456'),
        'NAS-IP-Address': attr('ipaddr', '10.1.2.3'),
        'NAS-Port': attr('integer', 7),
        'Service-Type': attr('integer', 'Login-User'),
        'NAS-Identifier': attr('string', 'vpn-1'),
        State: attr('octets', '0x74786e2d616263'),
      }),
    );
    assert.deepEqual(r, {
      ok: true,
      request: {
        user: 'bob',
        pass: '4711123456',
        transactionId: 'txn-abc',
        nasIdentifier: 'vpn-1',
        nasIpAddress: '10.1.2.3',
      },
    });
  });

  test('an empty password is a first round, not a malformed request', () => {
    const r = parseAuthBody(body({ 'User-Name': attr('string', 'a'), 'User-Password': attr('string', '') }));
    assert.deepEqual(r, { ok: true, request: { user: 'a', pass: '' } });
  });

  test('keeps %{...} in a User-Name as plain text (the validator will not know such a user)', () => {
    const r = parseAuthBody(
      body({ 'User-Name': attr('string', 'x%{User-Password}'), 'User-Password': attr('string', '1') }),
    );
    assert.ok(r.ok);
    assert.equal(r.request.user, 'x%{User-Password}');
  });

  test('a State that is not a minted id stays hex, so it can match no challenge', () => {
    const r = parseAuthBody(
      body({
        'User-Name': attr('string', 'a'),
        'User-Password': attr('string', '1'),
        State: attr('octets', '0xFF00A1'),
      }),
    );
    assert.ok(r.ok);
    assert.equal(r.request.transactionId, '0xff00a1');
  });

  test('the State round trip: what we render is what we read back', () => {
    const id = 'AbC_-0123456789xyzXYZ';
    const r = parseAuthBody(
      body({
        'User-Name': attr('string', 'a'),
        'User-Password': attr('string', '1'),
        State: attr('octets', stateOctets(id)),
      }),
    );
    assert.ok(r.ok);
    assert.equal(r.request.transactionId, id);
  });

  test('an invalid NAS-IP-Address is dropped, not trusted', () => {
    const r = parseAuthBody(
      body({
        'User-Name': attr('string', 'a'),
        'User-Password': attr('string', '1'),
        'NAS-IP-Address': attr('ipaddr', 'nope'),
      }),
    );
    assert.ok(r.ok);
    assert.equal(r.request.nasIpAddress, undefined);
  });

  const malformed: Array<[string, Buffer | string | undefined]> = [
    ['no body', undefined],
    ['an empty body', Buffer.alloc(0)],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
    ['not JSON', Buffer.from('User-Name=alice')],
    ['a JSON array', body([1, 2] as unknown as Record<string, unknown>)],
    ['a JSON string', Buffer.from('"x"')],
    ['no User-Name', body({ 'User-Password': attr('string', '1') })],
    ['an empty User-Name', body({ 'User-Name': attr('string', ''), 'User-Password': attr('string', '1') })],
    [
      'no User-Password (CHAP, MS-CHAP)',
      body({ 'User-Name': attr('string', 'a'), 'CHAP-Password': attr('octets', '0x01') }),
    ],
    ['two User-Names', body({ 'User-Name': attr('string', 'a', 'b'), 'User-Password': attr('string', '1') })],
    [
      'a User-Name that is an object',
      body({ 'User-Name': { type: 'string', value: [{}] }, 'User-Password': attr('string', '1') }),
    ],
    [
      'a value that is not a list',
      body({ 'User-Name': { type: 'string', value: 'a' }, 'User-Password': attr('string', '1') }),
    ],
    [
      'a User-Name over 253 bytes',
      body({ 'User-Name': attr('string', 'é'.repeat(127)), 'User-Password': attr('string', '1') }),
    ],
    [
      'a password over 128 bytes',
      body({ 'User-Name': attr('string', 'a'), 'User-Password': attr('string', '1'.repeat(129)) }),
    ],
    ['a lone surrogate', Buffer.from('{"User-Name":{"value":["a\\ud800"]},"User-Password":{"value":["1"]}}')],
    [
      'a control character',
      body({ 'User-Name': attr('string', 'a\nb'), 'User-Password': attr('string', '1') }),
    ],
    [
      'a State that is not hex',
      body({
        'User-Name': attr('string', 'a'),
        'User-Password': attr('string', '1'),
        State: attr('octets', 'abc'),
      }),
    ],
    [
      'a State of odd length',
      body({
        'User-Name': attr('string', 'a'),
        'User-Password': attr('string', '1'),
        State: attr('octets', '0xabc'),
      }),
    ],
    [
      'a State over 253 bytes',
      body({
        'User-Name': attr('string', 'a'),
        'User-Password': attr('string', '1'),
        State: attr('octets', `0x${'41'.repeat(254)}`),
      }),
    ],
    ['a body over the limit', Buffer.alloc(MAX_BODY_BYTES + 1, 0x20)],
    [
      '__proto__ tricks',
      Buffer.from('{"__proto__":{"User-Name":{"value":["a"]}},"User-Password":{"value":["1"]}}'),
    ],
  ];
  for (const [what, raw] of malformed) {
    test(`${what} is a problem, never an exception`, () => {
      const r = parseAuthBody(raw);
      assert.equal(r.ok, false, JSON.stringify(r));
      if (!r.ok) assert.ok(r.problem.length > 0);
    });
  }
});

describe('renderDecision', () => {
  test('accept is a 204 without a body', () => {
    assert.deepEqual(renderDecision({ result: 'accept', reason: 'OK' }, generic), { status: 204 });
  });

  test('a challenge carries the text, our State as octets, the timeout and the packet type, none expandable', () => {
    const a = renderDecision(
      {
        result: 'challenge',
        reason: 'CHALLENGE_SENT',
        message: 'Enter %{User-Name} code',
        transactionId: 'tx-1',
        challengeTtlSeconds: 120,
      },
      generic,
    );
    assert.deepEqual(a, {
      status: 200,
      body: {
        'reply:Reply-Message': { value: 'Enter %{User-Name} code', do_xlat: false },
        'reply:State': { value: '0x74782d31', do_xlat: false },
        'control:Response-Packet-Type': { value: 'Access-Challenge', do_xlat: false },
        'reply:Session-Timeout': { value: 120, do_xlat: false },
      },
    });
  });

  test("a challenge without its own message uses the client's challenge text", () => {
    const a = renderDecision({ result: 'challenge', reason: 'CHALLENGE_SENT', transactionId: 't' }, generic);
    assert.equal(a.body?.['reply:Reply-Message']?.value, generic.challengeText);
  });

  test('a challenge without a transaction id cannot be answered, so it is a reject', () => {
    assert.equal(renderDecision({ result: 'challenge', reason: 'CHALLENGE_SENT' }, generic).status, 401);
  });

  test('a reject is generic by default', () => {
    const a = renderDecision(
      { result: 'reject', reason: 'USER_LOCKED', message: 'Too many failed attempts' },
      generic,
    );
    assert.deepEqual(a, {
      status: 401,
      body: { 'reply:Reply-Message': { value: GENERIC_REJECT, do_xlat: false } },
    });
  });

  test('a reject names the reason when the client asks for it', () => {
    const a = renderDecision(
      { result: 'reject', reason: 'OTP_REUSED', message: 'This code was used already.' },
      detailed,
    );
    assert.deepEqual(a.body?.['reply:Reply-Message'], {
      value: 'This code was used already. (OTP_REUSED)',
      do_xlat: false,
    });
    const b = renderDecision({ result: 'reject', reason: 'OTP_INVALID' }, detailed);
    assert.equal(b.body?.['reply:Reply-Message']?.value, `${GENERIC_REJECT} (OTP_INVALID)`);
  });
});
