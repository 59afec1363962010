// The cluster face (node to node): a standby pulls the master's latest sealed snapshot.
// The node's cluster duties themselves (heartbeat, failover watch, snapshot schedule) are a service in src/cluster.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { roleAllows } from '../../src/auth/index.ts';
import { type ClusterRuntime, peekManifest } from '../../src/cluster/index.ts';
import { TesseraError } from '../../src/model/index.ts';
import {
  ADMIN_KEY,
  type Caller,
  type CallerLookup,
  CLIENT_KEY,
  checkOptions,
  errorReplies,
  installErrorHandler,
  requireCaller,
} from '../shared/index.ts';

export interface ClusterFaceOptions {
  /** Resolves the pulling nodes' client keys. */
  callers: CallerLookup;
  /** Where this node's snapshots are (the cluster service). */
  snapshots: Pick<ClusterRuntime, 'latestSnapshotFile'>;
}

/**
 * The snapshot is the whole configuration, sealed: it goes to another node (a client of kind
 * `node`) or a superadmin, never to a key that sits in a relying system's configuration (`api`,
 * `radius`, `keycloak`) nor to a helpdesk or auditor key.
 */
function mayPullSnapshots(caller: Caller | undefined): void {
  if (caller?.kind === 'client' && caller.client.kind === 'node') return;
  if (caller?.kind === 'admin' && roleAllows(caller.key.role, 'cluster:snapshot')) return;
  if (caller?.kind === 'admin') {
    throw new TesseraError(
      'ROLE_FORBIDDEN',
      `an admin key of role ${caller.key.role} may not pull snapshots`,
    );
  }
  throw new TesseraError('FORBIDDEN', 'snapshots are served to node clients and superadmin keys only');
}

async function clusterFace(app: FastifyInstance, opts: ClusterFaceOptions): Promise<void> {
  checkOptions('tessera-cluster', opts, {
    callers: 'the CallerDirectory that resolves client keys',
    snapshots: 'the cluster service that knows the latest snapshot',
  });
  const { callers, snapshots } = opts;
  installErrorHandler(app);
  app.addHook('onRequest', requireCaller(callers, 'any'));
  const schema = {
    tags: ['cluster'],
    summary: "The node's latest sealed snapshot, for a standby to pull (node clients and superadmin keys)",
    operationId: 'getLatestSnapshot',
    security: [...CLIENT_KEY, ...ADMIN_KEY],
    response: {
      200: {
        description: 'the sealed snapshot file',
        headers: { 'x-tessera-snapshot-time': Type.String({ format: 'date-time' }) },
        content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
      },
      ...errorReplies(401, 403, 404),
    },
  };
  app.get('/snapshot/latest', { schema }, async (request, reply) => {
    mayPullSnapshots(request.caller);
    const path = snapshots.latestSnapshotFile();
    if (!path) throw new TesseraError('NOT_FOUND', 'this node has no snapshot yet');
    const manifest = peekManifest(readFileSync(path));
    reply.header('content-type', 'application/octet-stream');
    reply.header('content-length', String(statSync(path).size));
    reply.header('x-tessera-snapshot-time', new Date(manifest.time).toISOString());
    return reply.send(createReadStream(path));
  });
}

/** Register with prefix `/v1/cluster`. */
export const clusterPlugin = fp(clusterFace, { name: 'tessera-cluster', fastify: '5.x', encapsulate: true });
