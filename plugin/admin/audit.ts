import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ADMIN_KEY } from '../shared/index.ts';
import type { AdminFaceOptions } from './options.ts';
import { AuditPage, adminErrors } from './replies.ts';
import { limitOf, QueryLimit } from './schemas.ts';

/** `auth`: validate decisions; `admin`: admin and CLI changes; `event`: node events. */
const AuditStreamName = Type.Union([Type.Literal('auth'), Type.Literal('admin'), Type.Literal('event')]);

const AuditQuery = Type.Object(
  { limit: Type.Optional(QueryLimit), stream: Type.Optional(AuditStreamName) },
  { additionalProperties: false },
);

export async function auditRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/audit',
    {
      config: { permission: 'audit:read' },
      schema: {
        tags: ['audit'],
        summary: 'Audit events, newest first: one stream, or all streams merged',
        operationId: 'listAudit',
        security: ADMIN_KEY,
        querystring: AuditQuery,
        response: { 200: AuditPage, ...adminErrors() },
      },
    },
    async (request) => {
      await face.audit.flush();
      const limit = limitOf(request.query.limit, 100);
      return { items: await face.store.listAudit(limit, request.query.stream) };
    },
  );
}
