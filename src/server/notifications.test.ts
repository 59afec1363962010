import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { describe, test } from 'vitest';
import { Notifier, type OutgoingMail } from '../notify/index.ts';
import { directorySyncMail, failoverMail } from './notifications.ts';

function notifier(sent: OutgoingMail[]): Notifier {
  return new Notifier(
    { disabled: [], adminAddresses: ['ops@example.test', 'oncall@example.test'] },
    new Registry(),
    undefined,
    { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, capacity: 10 },
    async (m) => {
      sent.push(m);
    },
  );
}

describe('node events that become admin mails', () => {
  test('a failover is mailed to every admin address, naming the node and the new master', async () => {
    const sent: OutgoingMail[] = [];
    const n = notifier(sent);
    failoverMail(n, 'node-b', { change: 'promoted', from: 'slave', to: 'master', master: '10.0.0.2:6379' });
    await n.idle();
    assert.deepEqual(
      sent.map((m) => m.to),
      ['ops@example.test', 'oncall@example.test'],
    );
    assert.match(sent[0]!.subject, /cluster failover: promoted/);
    assert.match(sent[0]!.text, /Node node-b[\s\S]*the master is now 10\.0\.0\.2:6379/);
    n.close();
  });

  test('only a failed directory sync is mailed, not any failed admin change', async () => {
    const sent: OutgoingMail[] = [];
    const n = notifier(sent);
    directorySyncMail(n, 'POST /v1/admin/users', 'CONFLICT');
    directorySyncMail(n, 'POST /v1/admin/directory/sources', 'BAD_REQUEST');
    directorySyncMail(n, 'POST /v1/admin/directory/sources/:name/sync', 'DIRECTORY_UNREACHABLE');
    await n.idle();
    assert.equal(sent.length, 2);
    assert.match(sent[0]!.text, /DIRECTORY_UNREACHABLE/);
    n.close();
  });
});
