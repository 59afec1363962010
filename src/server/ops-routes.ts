import type { FastifyInstance } from 'fastify';
import { errorBody } from './errors.ts';

/** Liveness, readiness and metrics: no caller key, nothing secret. */
export async function opsRoutes(app: FastifyInstance): Promise<void> {
  const hidden = { schema: { hide: true } };
  app.get('/healthz', hidden, async () => ({ status: 'ok' }));
  app.get('/readyz', hidden, async (_request, reply) => {
    try {
      await app.tessera.store.ping();
      const role = await app.tessera.store.role();
      return { status: 'ready', store: app.tessera.store.kind, role: role.role };
    } catch {
      return reply.code(503).send(errorBody('STORE_UNAVAILABLE', 'the store cannot be reached'));
    }
  });
  app.get('/metrics', hidden, async (_request, reply) => {
    const registry = app.tessera.metrics.registry;
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
