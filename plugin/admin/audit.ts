import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ADMIN_KEY } from '../shared/index.ts';
import type { AdminFaceOptions } from './options.ts';
import { AuditPage, adminErrors } from './replies.ts';
import { limitOf, QueryLimit } from './schemas.ts';

const AuditQuery = Type.Object({ limit: Type.Optional(QueryLimit) }, { additionalProperties: false });

export async function auditRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        operationId: 'listAudit',
        security: ADMIN_KEY,
        querystring: AuditQuery,
        response: { 200: AuditPage, ...adminErrors() },
      },
    },
    async (request) => {
      await face.audit.flush();
      return { items: await face.store.listAudit(limitOf(request.query.limit, 100)) };
    },
  );
}
