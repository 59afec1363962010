import type { FastifyInstance } from 'fastify';

/** Cluster view. On one node it shows that node; src/cluster fills in replication details. */
export async function clusterRoutes(app: FastifyInstance): Promise<void> {
  app.get('/cluster', { schema: { tags: ['cluster'] } }, async () => {
    const role = await app.tessera.store.role();
    return {
      role: role.role,
      nodes: [{ id: 'self', role: role.role, store: app.tessera.store.kind, health: 'ok' }],
    };
  });
}
