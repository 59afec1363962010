import { Readable } from 'node:stream';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EXPORT_FORMATS, exportAudit } from '../../src/audit/export.ts';
import { decodeCursor, searchAudit } from '../../src/audit/search.ts';
import { errorBody } from '../shared/errors.ts';
import { ADMIN_KEY } from '../shared/index.ts';
import type { AdminFaceOptions } from './options.ts';
import { AuditPage, adminErrors } from './replies.ts';

/** `auth`: validate decisions; `admin`: admin and CLI changes; `event`: node events. */
const AuditStreamName = Type.Union([Type.Literal('auth'), Type.Literal('admin'), Type.Literal('event')]);

/** Milliseconds since 1970, or an ISO 8601 date or time. */
export const Time = Type.String({
  pattern: '^(\\d{1,15}|\\d{4}-\\d\\d-\\d\\d([T ][0-9:.]{5,18}(Z|[+-]\\d\\d:?\\d\\d)?)?)$',
});

/** A page holds at most this many events; more is a 400, not a silent cut. */
export const AUDIT_PAGE_CAP = 1000;

const AuditQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,6}$' })),
    stream: Type.Optional(AuditStreamName),
    from: Type.Optional(Time),
    to: Type.Optional(Time),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    client: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'a relying system (client id)' }),
    ),
    node: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'the node that decided or reported' }),
    ),
    result: Type.Optional(Type.String({ pattern: '^[A-Za-z_-]{1,32}$' })),
    reason: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })),
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,512}$' })),
  },
  { additionalProperties: false },
);
const FILTERS = Object.keys(AuditQuery.properties);

const ExportQuery = Type.Object(
  {
    format: Type.Union(EXPORT_FORMATS.map((f) => Type.Literal(f))),
    stream: Type.Optional(AuditStreamName),
    from: Type.Optional(Time),
    to: Type.Optional(Time),
  },
  { additionalProperties: false },
);
const EXPORT_FILTERS = Object.keys(ExportQuery.properties);

/** An unknown filter is a mistake to name, not a parameter to drop silently. */
export function refuseUnknown(filters: string[]) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const unknown = Object.keys((request.query ?? {}) as object).find((k) => !filters.includes(k));
    if (unknown !== undefined)
      return reply
        .code(400)
        .send(
          errorBody(
            'BAD_REQUEST',
            `querystring/${unknown.slice(0, 40)} is not a filter; use ${filters.join(', ')}`,
          ),
        );
  };
}

/** The time range asked for, or the message of the 400 naming what is wrong with it. */
export function rangeOf(q: { from?: string; to?: string }): { from?: number; to?: number } | string {
  const from = timeOf(q.from);
  const to = timeOf(q.to);
  for (const [name, t] of [
    ['from', from],
    ['to', to],
  ] as const)
    if (t !== undefined && !Number.isFinite(t)) return `querystring/${name} is not a time`;
  if (from !== undefined && to !== undefined && from > to) return 'querystring/to is before querystring/from';
  return { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}

function timeOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return /^\d+$/.test(text) ? Number(text) : Date.parse(text);
}

export async function auditRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/audit',
    {
      config: { permission: 'audit:read' },
      schema: {
        tags: ['audit'],
        summary:
          'Audit events, newest first: one stream or all merged, filtered by time, user, relying system (client), result, reason and node through indexes, a page at a time in constant time per page',
        operationId: 'listAudit',
        security: ADMIN_KEY,
        querystring: AuditQuery,
        response: { 200: AuditPage, ...adminErrors() },
      },
      preValidation: refuseUnknown(FILTERS),
    },
    async (request, reply) => {
      const q = request.query;
      const limit = q.limit === undefined ? 100 : Number(q.limit);
      if (limit > AUDIT_PAGE_CAP)
        return reply
          .code(400)
          .send(errorBody('BAD_REQUEST', `querystring/limit must be at most ${AUDIT_PAGE_CAP}`));
      const range = rangeOf(q);
      if (typeof range === 'string') return reply.code(400).send(errorBody('BAD_REQUEST', range));
      if (q.cursor !== undefined && !decodeCursor(q.cursor))
        return reply
          .code(400)
          .send(errorBody('BAD_REQUEST', 'querystring/cursor is not a cursor this API gave out'));
      await face.audit.flush();
      return searchAudit(face.store, {
        limit,
        ...(q.stream ? { stream: q.stream } : {}),
        ...range,
        ...(q.user !== undefined ? { user: q.user } : {}),
        ...(q.client !== undefined ? { client: q.client } : {}),
        ...(q.node !== undefined ? { node: q.node } : {}),
        ...(q.result !== undefined ? { result: q.result } : {}),
        ...(q.reason !== undefined ? { reason: q.reason } : {}),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
      });
    },
  );
  app.get<{ Querystring: Static<typeof ExportQuery> }>(
    '/audit/export',
    {
      config: { permission: 'audit:read' },
      schema: {
        tags: ['audit'],
        summary:
          'The audit trail as CSV (a header line first) or JSON lines, newest first, streamed a page at a time',
        operationId: 'exportAudit',
        security: ADMIN_KEY,
        querystring: ExportQuery,
        response: {
          200: {
            description: 'CSV (text/csv) or JSON lines (application/x-ndjson), one event a line',
            content: {
              'text/csv': { schema: Type.String() },
              'application/x-ndjson': { schema: Type.String() },
            },
          },
          ...adminErrors(),
        },
      },
      preValidation: refuseUnknown(EXPORT_FILTERS),
    },
    async (request, reply) => {
      const q = request.query;
      const range = rangeOf(q);
      if (typeof range === 'string') return reply.code(400).send(errorBody('BAD_REQUEST', range));
      await face.audit.flush();
      const lines = exportAudit(
        face.store,
        { ...(q.stream ? { stream: q.stream } : {}), ...range },
        q.format,
      );
      return reply
        .type(q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="tessera-audit.${q.format}"`)
        .send(Readable.from(lines));
    },
  );
}
