import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { limitOf, QueryLimit } from './schemas.ts';

const AuditQuery = Type.Object({ limit: Type.Optional(QueryLimit) }, { additionalProperties: false });

export async function auditRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/audit',
    { schema: { tags: ['audit'], querystring: AuditQuery } },
    async (request) => {
      await app.tessera.audit.flush();
      return { items: await app.tessera.store.listAudit(limitOf(request.query.limit, 100)) };
    },
  );
}
