import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { limitOf, QueryLimit } from './schemas.ts';

/** `auth`: validate decisions; `admin`: admin and CLI changes; `event`: node events. */
const AuditStreamName = Type.Union([Type.Literal('auth'), Type.Literal('admin'), Type.Literal('event')]);

const AuditQuery = Type.Object(
  { limit: Type.Optional(QueryLimit), stream: Type.Optional(AuditStreamName) },
  { additionalProperties: false },
);

export async function auditRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit events, newest first: one stream, or all streams merged',
        querystring: AuditQuery,
      },
    },
    async (request) => {
      await app.tessera.audit.flush();
      const limit = limitOf(request.query.limit, 100);
      return { items: await app.tessera.store.listAudit(limit, request.query.stream) };
    },
  );
}
