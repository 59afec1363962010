// The operations face: liveness, readiness and metrics. No caller key, nothing secret.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Registry } from 'prom-client';
import type { Store } from '../../src/store/index.ts';
import { checkOptions, errorBody, installErrorHandler } from '../shared/index.ts';

export interface OpsFaceOptions {
  /** Readiness asks the store. */
  store: Pick<Store, 'ping' | 'role' | 'kind'>;
  /** The node's metrics, served at /metrics. */
  registry: Registry;
  /** A reason this node must not take traffic although its store answers (503 with it). */
  readiness?: () => Promise<{ code: string; message: string } | null>;
}

async function opsFace(app: FastifyInstance, opts: OpsFaceOptions): Promise<void> {
  checkOptions('tessera-ops', opts, {
    store: 'the Store that readiness asks',
    registry: 'the prom-client Registry served at /metrics',
  });
  const { store, registry } = opts;
  installErrorHandler(app);
  const hidden = { schema: { hide: true } };
  app.get('/healthz', hidden, async () => ({ status: 'ok' }));
  app.get('/readyz', hidden, async (_request, reply) => {
    try {
      await store.ping();
      const role = await store.role();
      const problem = await opts.readiness?.();
      if (problem) return reply.code(503).send(errorBody(problem.code, problem.message));
      return { status: 'ready', store: store.kind, role: role.role };
    } catch {
      return reply.code(503).send(errorBody('STORE_UNAVAILABLE', 'the store cannot be reached'));
    }
  });
  app.get('/metrics', hidden, async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}

export const opsPlugin = fp(opsFace, { name: 'tessera-ops', fastify: '5.x', encapsulate: true });
