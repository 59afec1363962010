// The cluster face: snapshot pulls for standby nodes, plus the node's cluster duties (heartbeat,
// failover events, periodic snapshots) started and stopped with the server.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import {
  ClusterRuntime,
  latestSnapshotFile,
  loadClusterConfig,
  peekManifest,
  setRuntime,
} from '../../src/cluster/index.ts';
import { TesseraError } from '../../src/model/index.ts';
import { callerClient, requireCaller } from '../../src/server/caller-auth.ts';
import { keyFilePath } from '../../src/server/services.ts';

function metrics(app: FastifyInstance) {
  const registers = [app.tessera.metrics.registry];
  return {
    failovers: new Counter({
      name: 'tessera_failover_total',
      help: 'Failover events seen by this node',
      labelNames: ['change'] as const,
      registers,
    }),
    ackMissing: new Counter({
      name: 'tessera_replica_ack_missing_total',
      help: 'Writes that no replica acknowledged in time (TESSERA_REPLICA_ACK decides whether they counted)',
      registers,
    }),
    snapshots: new Counter({
      name: 'tessera_snapshot_total',
      help: 'Periodic snapshots by result',
      labelNames: ['result'] as const,
      registers,
    }),
    lastSnapshot: new Gauge({
      name: 'tessera_snapshot_last_timestamp_seconds',
      help: 'Time of the last snapshot written',
      registers,
    }),
    role: new Gauge({
      name: 'tessera_node_role',
      help: "This node's role (1 for the current one)",
      labelNames: ['role'] as const,
      registers,
    }),
  };
}

async function snapshotRoutes(app: FastifyInstance, opts: { runtime: ClusterRuntime }): Promise<void> {
  app.addHook('onRequest', requireCaller(app.tessera.callers, 'client'));
  app.get('/snapshot/latest', { schema: { tags: ['cluster'], hide: true } }, async (request, reply) => {
    // Only nodes pull snapshots, with a key of kind api: a RADIUS or Keycloak key, which sits in a
    // relying system's configuration, never reaches the cluster's state, even sealed.
    if (callerClient(request).kind !== 'api') {
      throw new TesseraError('FORBIDDEN', 'snapshots are served to clients of kind api only');
    }
    const path = latestSnapshotFile(opts.runtime.config.snapshotDir);
    if (!path) throw new TesseraError('NOT_FOUND', 'this node has no snapshot yet');
    const manifest = peekManifest(readFileSync(path));
    reply.header('content-type', 'application/octet-stream');
    reply.header('content-length', String(statSync(path).size));
    reply.header('x-tessera-snapshot-time', new Date(manifest.time).toISOString());
    return reply.send(createReadStream(path));
  });
}

async function clusterPluginImpl(app: FastifyInstance): Promise<void> {
  const { config } = app.tessera;
  const m = metrics(app);
  const runtime = new ClusterRuntime(
    app.tessera.store,
    loadClusterConfig(config),
    { keyFile: keyFilePath(config.dataDir), ...(config.masterKey ? { masterKey: config.masterKey } : {}) },
    {
      log: app.log,
      onFailover: (e) => m.failovers.inc({ change: e.change }),
      onReplicaAckMissing: () => m.ackMissing.inc(),
      onSnapshot: (r) => {
        if (r instanceof Error) m.snapshots.inc({ result: 'error' });
        else {
          m.snapshots.inc({ result: 'ok' });
          m.lastSnapshot.set(r.time / 1000);
        }
      },
      onRole: (role) => {
        m.role.reset();
        m.role.set({ role }, 1);
      },
      // Deleted clients and admin keys stop at once, not after the caller cache's few seconds.
      onApplied: () => {
        app.tessera.callers.forget();
        app.tessera.settings.invalidate();
      },
    },
  );
  setRuntime(app.tessera, runtime);
  app.addHook('onReady', async () => runtime.start());
  app.addHook('onClose', async () => runtime.stop());
  await app.register(snapshotRoutes, { prefix: '/v1/cluster', runtime });
}

export const clusterPlugin = fp(clusterPluginImpl, { name: 'tessera-cluster' });
