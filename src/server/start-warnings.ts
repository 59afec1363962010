import type { Config } from './config.ts';

/**
 * Choices the operator made that trade safety away, said once at start. Only the Redis store
 * replicates, so only it can accept a login that a failover then forgets.
 */
export function startWarnings(config: Config, replicated: boolean): { fields: object; message: string }[] {
  if (!replicated || config.redis.replicaAck !== 'accept') return [];
  return [
    {
      fields: { TESSERA_REPLICA_ACK: 'accept' },
      message:
        'TESSERA_REPLICA_ACK=accept: in a cluster, a login is accepted even when no replica acknowledged ' +
        'the used code; if the master is lost before it replicates, that code can be accepted a second ' +
        'time on the promoted replica (and an enrolment or admin change can be lost). Unset it for the ' +
        'strict default (reject without an acknowledgement).',
    },
  ];
}
