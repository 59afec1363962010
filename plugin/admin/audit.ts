import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AdminFaceOptions } from './options.ts';
import { limitOf, QueryLimit } from './schemas.ts';

const AuditQuery = Type.Object({ limit: Type.Optional(QueryLimit) }, { additionalProperties: false });

export async function auditRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/audit',
    { config: { permission: 'audit:read' }, schema: { tags: ['audit'], querystring: AuditQuery } },
    async (request) => {
      await face.audit.flush();
      return { items: await face.store.listAudit(limitOf(request.query.limit, 100)) };
    },
  );
}
