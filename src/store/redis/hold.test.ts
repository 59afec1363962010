import assert from 'node:assert/strict';
import { ReplyError } from 'ioredis';
import { describe, test } from 'vitest';
import { TesseraError } from '../../model/index.ts';
import { isTransient } from './hold.ts';

describe('which store failures a login is held through', () => {
  test('a lost connection or a moving master is held; a wrong command or our own refusal is not', () => {
    const held = [
      new Error('Connection is closed.'),
      new Error('connect ECONNREFUSED 127.0.0.1:6379'),
      new Error('Command timed out'),
      new Error('Reached the max retries per request limit (which is 1).'),
      new ReplyError("READONLY You can't write against a read only replica."),
      new ReplyError('LOADING Redis is loading the dataset in memory'),
      new ReplyError('MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no'),
      new ReplyError('NOREPLICAS Not enough good replicas to write.'),
    ];
    const final = [
      new ReplyError('OOM command not allowed when used memory > maxmemory'),
      new ReplyError('ERR Error running script (call to f_1234): bad argument'),
      new ReplyError('NOSCRIPTS-LIKE but not a failover word'),
      new TesseraError('STORE_UNAVAILABLE', 'no replica acknowledged'),
      new TesseraError('READ_ONLY_REPLICA', 'this node is a slave'),
      'not an error',
    ];
    for (const e of held) assert.equal(isTransient(e), true, String(e));
    for (const e of final) assert.equal(isTransient(e), false, String(e));
  });
});
