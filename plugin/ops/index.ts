// The operations face: liveness, readiness and metrics. No caller key, nothing secret.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifySchema } from 'fastify';
import fp from 'fastify-plugin';
import type { Registry } from 'prom-client';
import type { Store } from '../../src/store/index.ts';
import {
  checkOptions,
  described,
  errorBody,
  errorReplies,
  installErrorHandler,
  NO_KEY,
} from '../shared/index.ts';

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
  const tags = ['operations'];
  const health = {
    tags,
    operationId: 'health',
    summary: 'The process is up',
    security: NO_KEY,
    response: { 200: described('up', Type.Object({ status: Type.Literal('ok') })) },
  };
  app.get('/healthz', { schema: health }, async () => ({ status: 'ok' }));
  const readiness: FastifySchema = {
    tags,
    operationId: 'readiness',
    summary: 'The store answers and the role is known',
    security: NO_KEY,
    response: {
      200: described(
        'ready',
        Type.Object({
          status: Type.Literal('ready'),
          store: Type.Union([Type.Literal('embedded'), Type.Literal('redis')]),
          role: Type.Union([Type.Literal('standalone'), Type.Literal('master'), Type.Literal('slave')]),
        }),
      ),
      ...errorReplies(503),
    },
  };
  app.get('/readyz', { schema: readiness }, async (_request, reply) => {
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
  const metrics = {
    tags,
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    security: NO_KEY,
    response: {
      200: {
        description: 'Prometheus text exposition format',
        content: { 'text/plain': { schema: Type.String() } },
      },
    },
  };
  app.get('/metrics', { schema: metrics }, async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}

export const opsPlugin = fp(opsFace, { name: 'tessera-ops', fastify: '5.x', encapsulate: true });
