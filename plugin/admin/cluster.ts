import type { FastifyInstance } from 'fastify';
import type { AdminFaceOptions } from './options.ts';

/** `GET /v1/admin/cluster`: every node's role, Redis role, replication offset and lag, snapshot, version, health. */
export async function clusterRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  app.get('/cluster', { config: { permission: 'cluster:read' }, schema: { tags: ['cluster'] } }, async () =>
    face.cluster.status(),
  );
}
