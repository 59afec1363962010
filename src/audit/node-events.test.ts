import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import type { AuditEvent } from '../model/index.ts';
import { NodeEvents } from './node-events.ts';
import { auditStreamOf } from './streams.ts';

describe('NodeEvents', () => {
  const recorded: AuditEvent[] = [];
  const events = new NodeEvents({ record: (e) => recorded.push(e) }, 'n1', () => 7);

  test('start, roles (changes only), failover, runs and stop all go to the event stream', () => {
    events.started();
    events.roleSeen('master');
    events.roleSeen('master');
    events.roleSeen('slave');
    events.failover({ change: 'role', from: 'master', to: 'slave', master: '10.0.0.9:6379' });
    events.run('snapshot', { path: '/s/1.snap', ms: 12.4 });
    events.run('backup', new Error('disk full'));
    events.stopped();
    assert.deepEqual(
      recorded.map((e) => [e.type, e.result, auditStreamOf(e)]),
      [
        ['node.start', 'ok', 'event'],
        ['node.role', 'ok', 'event'],
        ['node.role', 'ok', 'event'],
        ['failover', 'ok', 'event'],
        ['snapshot.run', 'ok', 'event'],
        ['backup.run', 'error', 'event'],
        ['node.stop', 'ok', 'event'],
      ],
    );
    assert.deepEqual(recorded[2]?.detail, { node: 'n1', from: 'master', to: 'slave' });
    assert.deepEqual(recorded[4]?.detail, { node: 'n1', path: '/s/1.snap', ms: 12 });
    assert.equal(recorded[5]?.detail?.error, 'disk full');
    assert.ok(recorded.every((e) => e.actor === 'node:n1' && e.time === 7));
  });
});
