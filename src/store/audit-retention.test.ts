import assert from 'node:assert/strict';
import { test } from 'vitest';
import { auditRetention, DEFAULT_AUDIT_RETENTION } from './audit-retention.ts';

const DAY = 86_400_000;

test('retention defaults: authentication 90 days, admin trail and events two years; admin never by count', () => {
  assert.equal(DEFAULT_AUDIT_RETENTION.auth.maxAgeMs, 90 * DAY);
  assert.equal(DEFAULT_AUDIT_RETENTION.admin.maxAgeMs, 730 * DAY);
  assert.equal(DEFAULT_AUDIT_RETENTION.event.maxAgeMs, 730 * DAY);
  assert.equal(DEFAULT_AUDIT_RETENTION.admin.maxEvents, undefined);
  assert.deepEqual(auditRetention(), DEFAULT_AUDIT_RETENTION);
});

test('a stream set alone keeps the others at their defaults; nonsense is refused', () => {
  const r = auditRetention({ auth: { maxAgeMs: DAY } });
  assert.equal(r.auth.maxAgeMs, DAY);
  assert.equal(r.admin.maxAgeMs, 730 * DAY);
  assert.throws(() => auditRetention({ admin: { maxAgeMs: 0 } }), /admin/);
  assert.throws(() => auditRetention({ auth: { maxAgeMs: DAY, maxEvents: 1.5 } }), /auth/);
});
