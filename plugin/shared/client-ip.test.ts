import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { CLIENT_IP_HEADER, forwardedClientIp } from './client-ip.ts';

describe('forwardedClientIp', () => {
  it('takes an IPv4 or IPv6 address, trimmed', () => {
    assert.equal(forwardedClientIp({ [CLIENT_IP_HEADER]: '127.0.0.1' }), '127.0.0.1');
    assert.equal(forwardedClientIp({ [CLIENT_IP_HEADER]: ' ::1 ' }), '::1');
  });
  it('takes the first of repeated headers', () => {
    assert.equal(forwardedClientIp({ [CLIENT_IP_HEADER]: ['10.0.0.1', '10.0.0.2'] }), '10.0.0.1');
  });
  it('ignores anything that is not an address', () => {
    assert.equal(forwardedClientIp({ [CLIENT_IP_HEADER]: '%{Packet-Src-IP-Address}' }), undefined);
    assert.equal(forwardedClientIp({ [CLIENT_IP_HEADER]: 'evil.example, 10.0.0.1' }), undefined);
    assert.equal(forwardedClientIp({ [CLIENT_IP_HEADER]: `1.2.3.4${' '.repeat(80)}` }), undefined);
    assert.equal(forwardedClientIp({}), undefined);
  });
});
