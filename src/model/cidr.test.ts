import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { firstBadCidr, parseAddressList, parseCidr } from './cidr.ts';

describe('CIDR parsing', () => {
  test('networks and bare addresses of both families', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    assert.deepEqual(parseCidr('192.0.2.7'), { address: '192.0.2.7', prefix: 32, family: 'ipv4' });
    assert.deepEqual(parseCidr('2001:db8::/32'), { address: '2001:db8::', prefix: 32, family: 'ipv6' });
    assert.deepEqual(parseCidr('::1'), { address: '::1', prefix: 128, family: 'ipv6' });
    assert.equal(parseCidr('0.0.0.0/0')?.prefix, 0);
    assert.equal(parseCidr('::/128')?.prefix, 128);
  });

  test('anything a BlockList would choke on at request time is refused', () => {
    for (const bad of [
      '10.0.0.0/99',
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/',
      '10.0.0.0/08',
      '10.0.0.0/+8',
      '10.0.0.0/-1',
      '10.0.0.0/8/8',
      '10.0.0.256',
      '10.0.0',
      'fe80::1%eth0',
      '',
      '/8',
      'example.org',
      '1.2.3.4 ',
    ]) {
      assert.equal(parseCidr(bad), null, bad);
    }
  });

  test('firstBadCidr names the first bad entry', () => {
    assert.equal(firstBadCidr(['10.0.0.0/8', '::1']), null);
    assert.equal(firstBadCidr(['10.0.0.0/8', '10.0.0.0/99', 'x']), '10.0.0.0/99');
  });
});

describe('address lists from the environment', () => {
  test('unset or empty is no list', () => {
    assert.deepEqual(parseAddressList('V', undefined), { ok: true, value: [] });
    assert.deepEqual(parseAddressList('V', '  '), { ok: true, value: [] });
  });

  test('comma-separated entries, spaces around them allowed', () => {
    assert.deepEqual(parseAddressList('V', '10.0.0.5, 10.1.0.0/16,::1'), {
      ok: true,
      value: ['10.0.0.5', '10.1.0.0/16', '::1'],
    });
  });

  test('"true", a hop count, a bad network or an empty entry is an error naming the variable', () => {
    for (const [text, needle] of [
      ['true', '"true"'],
      ['1', '"1"'],
      ['10.0.0.0/99', '"10.0.0.0/99"'],
      ['10.0.0.1,,10.0.0.2', 'empty entry'],
      ['loopback', '"loopback"'],
    ] as const) {
      const r = parseAddressList('TESSERA_TRUST_PROXY', text);
      assert.equal(r.ok, false, text);
      if (!r.ok) {
        assert.match(r.error, /^TESSERA_TRUST_PROXY: /);
        assert.ok(r.error.includes(needle), r.error);
      }
    }
  });
});
