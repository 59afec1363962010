import type { FastifyInstance } from 'fastify';
import { clusterStatus, getRuntime, selfRecord } from '../../src/cluster/index.ts';

/** `GET /v1/admin/cluster`: every node's role, Redis role, replication offset and lag, snapshot, version, health. */
export async function clusterRoutes(app: FastifyInstance): Promise<void> {
  app.get('/cluster', { schema: { tags: ['cluster'] } }, async () => {
    const runtime = getRuntime(app.tessera);
    if (runtime) return runtime.status();
    const { store, config } = app.tessera;
    const self = () =>
      selfRecord(store, {
        id: config.nodeId ?? 'self',
        url: `http://${config.host}:${config.port}`,
        version: '0.1.0',
        lastSnapshot: null,
      });
    return clusterStatus({ store, self, heartbeatMs: 5_000 });
  });
}
