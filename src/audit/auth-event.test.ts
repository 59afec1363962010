import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { type AuthDecision, authEvent, keepAuthEvent } from './auth-event.ts';

describe('keepAuthEvent', () => {
  const never = () => 0.999_999;
  const always = () => 0;

  test('a refusal is kept whatever the rate, the client switching successes off included', () => {
    assert.equal(keepAuthEvent('reject', { auditSuccessRate: 0 }, 0, never), true);
    assert.equal(keepAuthEvent('reject', {}, 0, never), true);
  });

  test('a client rate of 0 switches its accepts and challenges off, whatever the node default', () => {
    assert.equal(keepAuthEvent('accept', { auditSuccessRate: 0 }, 1, always), false);
    assert.equal(keepAuthEvent('challenge', { auditSuccessRate: 0 }, 1, always), false);
    assert.equal(keepAuthEvent('accept', { auditSuccessRate: 1 }, 0, never), true);
  });

  test('a rate between keeps that share of accepts', () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    let kept = 0;
    for (let i = 0; i < 10_000; i++) if (keepAuthEvent('accept', {}, 0.25, random)) kept++;
    assert.ok(kept > 2200 && kept < 2800, String(kept));
  });
});

/** A decision with every field set. */
const FULL: AuthDecision = {
  time: 5,
  node: 'n1',
  client: { id: 'c1', name: 'vpn' },
  user: 'alice@corp.example',
  result: 'accept',
  reason: 'OK',
  serial: 'TOTP0001',
  method: 'totp',
  sourceIp: '10.0.0.1',
  nasIdentifier: 'nas-a',
  nasIpAddress: '10.0.0.2',
  latencyMs: 1.23456,
};

describe('authEvent', () => {
  test('carries node, client id and name, addresses, realm, method, serial, result, reason, latency', () => {
    const e = authEvent(FULL);
    assert.deepEqual(e, {
      time: 5,
      type: 'validate',
      actor: 'client:c1',
      username: 'alice@corp.example',
      result: 'accept',
      reason: 'OK',
      serial: 'TOTP0001',
      sourceIp: '10.0.0.1',
      nasIdentifier: 'nas-a',
      nasIpAddress: '10.0.0.2',
      detail: { clientName: 'vpn', latencyMs: 1.235, node: 'n1', method: 'totp', realm: 'corp.example' },
    });
  });

  test('keeps the field order the stores were given before (the stored JSON, byte for byte)', () => {
    const full = authEvent(FULL);
    assert.equal(
      JSON.stringify(full),
      '{"time":5,"type":"validate","actor":"client:c1","username":"alice@corp.example","result":"accept","reason":"OK","serial":"TOTP0001","sourceIp":"10.0.0.1","nasIdentifier":"nas-a","nasIpAddress":"10.0.0.2","detail":{"clientName":"vpn","latencyMs":1.235,"node":"n1","method":"totp","realm":"corp.example"}}',
    );
    // no optional part: none is written, not even as undefined; "bob@" has no realm
    const bare = authEvent({
      time: 6,
      client: { id: 'c2', name: 'wifi' },
      user: 'bob@',
      result: 'reject',
      reason: 'OTP_INVALID',
      latencyMs: 0.5,
    });
    assert.equal(
      JSON.stringify(bare),
      '{"time":6,"type":"validate","actor":"client:c2","username":"bob@","result":"reject","reason":"OTP_INVALID","detail":{"clientName":"wifi","latencyMs":0.5}}',
    );
    assert.deepEqual(Object.keys(bare), ['time', 'type', 'actor', 'username', 'result', 'reason', 'detail']);
  });
});
