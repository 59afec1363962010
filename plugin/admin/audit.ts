import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';

const AuditQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
  { additionalProperties: false },
);

export async function auditRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/audit',
    { schema: { tags: ['audit'], querystring: AuditQuery } },
    async (request) => {
      await app.tessera.audit.flush();
      return { items: await app.tessera.store.listAudit(request.query.limit ?? 100) };
    },
  );
}
