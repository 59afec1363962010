import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { sourceAllowed } from './source-allowed.ts';

describe('sourceAllowed', () => {
  it('allows every address when the list is empty', () => {
    assert.equal(sourceAllowed('203.0.113.9', []), true);
  });
  it('checks subnets and single addresses, IPv4 and IPv6, also IPv4-mapped', () => {
    const cidrs = ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32'];
    assert.equal(sourceAllowed('10.1.2.3', cidrs), true);
    assert.equal(sourceAllowed('::ffff:10.1.2.3', cidrs), true);
    assert.equal(sourceAllowed('192.0.2.7', cidrs), true);
    assert.equal(sourceAllowed('192.0.2.8', cidrs), false);
    assert.equal(sourceAllowed('2001:db8::1', cidrs), true);
    assert.equal(sourceAllowed('2001:db9::1', cidrs), false);
    assert.equal(sourceAllowed('11.0.0.1', cidrs), false);
  });
  it('answers the same on repeated calls and follows a changed list', () => {
    const before = ['10.0.0.0/8'];
    assert.equal(sourceAllowed('10.0.0.1', before), true);
    assert.equal(sourceAllowed('10.0.0.1', before), true);
    assert.equal(sourceAllowed('172.16.0.1', before), false);
    const after = ['172.16.0.0/12'];
    assert.equal(sourceAllowed('10.0.0.1', after), false);
    assert.equal(sourceAllowed('172.16.0.1', after), true);
  });
  it('a bad entry stored before saves were checked matches nothing, and never throws', () => {
    assert.equal(sourceAllowed('10.0.0.1', ['10.0.0.0/99']), false);
    assert.equal(sourceAllowed('10.0.0.1', ['10.0.0.0/99', '10.0.0.0/8']), true);
    assert.equal(sourceAllowed('2001:db8::1', ['nonsense', '::/129']), false);
  });
});
