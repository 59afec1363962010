import type { FastifyInstance } from 'fastify';
import { ADMIN_KEY } from '../shared/index.ts';
import type { AdminFaceOptions } from './options.ts';
import { adminErrors, ClusterView } from './replies.ts';

/** `GET /v1/admin/cluster`: every node's role, Redis role, replication offset and lag, snapshot, version, health. */
export async function clusterRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  const schema = {
    tags: ['cluster'],
    operationId: 'getCluster',
    security: ADMIN_KEY,
    response: { 200: ClusterView, ...adminErrors() },
  };
  app.get('/cluster', { config: { permission: 'cluster:read' }, schema }, async () => face.cluster.status());
}
