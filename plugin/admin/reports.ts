import { Readable } from 'node:stream';
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import {
  DAILY_COLUMNS,
  devicesByRegistration,
  devicesCsv,
  LOCKED_COLUMNS,
  lockedUsers,
  loginsPerDay,
  pagesCsv,
  type ReportPage,
  reportCsv,
  reportSpan,
  TOKEN_COLUMNS,
  USER_COLUMNS,
  unusedTokens,
  usersWithoutDevice,
} from '../../src/audit/index.ts';
import { errorBody } from '../shared/errors.ts';
import { ADMIN_KEY } from '../shared/index.ts';
import { rangeOf, refuseUnknown, Time } from './audit.ts';
import type { AdminFaceOptions } from './options.ts';
import { adminErrors } from './replies.ts';

// Reports for auditors (JSON the console draws, or CSV): logins and failures per day per relying
// system, users without a device, locked users, unused tokens, devices by registration type.

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Format = Type.Optional(
  Type.Union([Type.Literal('json'), Type.Literal('csv')], { description: 'json (default) or csv' }),
);
const Limit = Type.Optional(
  Type.String({ pattern: '^[1-9][0-9]{0,6}$', description: 'rows a page (at most 1000)' }),
);
const Cursor = Type.Optional(
  Type.String({ minLength: 1, maxLength: 256, description: 'the `next` of the previous page (a username)' }),
);
const PAGE_CAP = 1000;

/** A 200 that is JSON (the schema) or, with format=csv, CSV. */
const jsonOrCsv = (description: string, schema: TSchema) => ({
  description,
  content: {
    'application/json': { schema },
    'text/csv': { schema: Type.String({ description: 'the whole report, a header line first' }) },
  },
});

const page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), next: Nullable(Type.String()) });

const UserRow = Type.Object({ username: Type.String(), group: Type.String(), enabled: Type.Boolean() });
const LockedRow = Type.Object({
  username: Type.String(),
  group: Type.String(),
  enabled: Type.Boolean(),
  lockedUntil: Type.Integer({ description: 'epoch ms' }),
  failures: Type.Integer(),
});
const TokenRow = Type.Object({
  serial: Type.String(),
  username: Type.String(),
  type: Type.String(),
  status: Type.String(),
  createdAt: Type.Integer(),
  lastUsedAt: Nullable(Type.Integer({ description: 'epoch ms; null when never used' })),
  neverUsed: Type.Boolean(),
});
const DailyRow = Type.Object({
  day: Type.String({ description: 'YYYY-MM-DD (UTC)' }),
  client: Type.String({ description: 'the relying system (client id); empty when the decision had none' }),
  clientName: Nullable(Type.String()),
  logins: Type.Integer({ description: 'accepts' }),
  failures: Type.Integer({ description: 'refusals' }),
  challenges: Type.Integer(),
  total: Type.Integer(),
});
const Daily = Type.Object({ from: Type.String(), to: Type.String(), rows: Type.Array(DailyRow) });
const Devices = Type.Object({
  total: Type.Integer(),
  byRegistration: Type.Object({ offline: Type.Integer(), online: Type.Integer() }),
  byType: Type.Record(Type.String(), Type.Integer()),
  byStatus: Type.Record(Type.String(), Type.Integer()),
});

const PagedQuery = Type.Object(
  { format: Format, limit: Limit, cursor: Cursor },
  { additionalProperties: false },
);
const UnusedQuery = Type.Object(
  {
    format: Format,
    limit: Limit,
    cursor: Cursor,
    days: Type.Optional(
      Type.String({ pattern: '^[1-9][0-9]{0,4}$', description: 'also tokens not used for this many days' }),
    ),
  },
  { additionalProperties: false },
);
const DailyQuery = Type.Object(
  { format: Format, from: Type.Optional(Time), to: Type.Optional(Time) },
  { additionalProperties: false },
);
const DevicesQuery = Type.Object({ format: Format }, { additionalProperties: false });

type Paged = Static<typeof PagedQuery>;

function csv(reply: FastifyReply, name: string, body: string | AsyncIterable<string>) {
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="tessera-${name}.csv"`)
    .send(typeof body === 'string' ? body : Readable.from(body));
}

function limitOf(q: Paged, reply: FastifyReply): number | null {
  const limit = q.limit === undefined ? 100 : Number(q.limit);
  if (limit <= PAGE_CAP) return limit;
  void reply.code(400).send(errorBody('BAD_REQUEST', `querystring/limit must be at most ${PAGE_CAP}`));
  return null;
}

export async function reportRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  const common = { tags: ['reports'], security: ADMIN_KEY };
  const config = { permission: 'audit:read' as const };

  app.get<{ Querystring: Static<typeof DailyQuery> }>(
    '/reports/logins-per-day',
    {
      config,
      preValidation: refuseUnknown(Object.keys(DailyQuery.properties)),
      schema: {
        ...common,
        operationId: 'reportLoginsPerDay',
        summary:
          'Logins and failures per day (UTC) per relying system, from `from` to `to` (default: the last 30 days)',
        querystring: DailyQuery,
        response: { 200: jsonOrCsv('one row per day and relying system', Daily), ...adminErrors() },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const range = rangeOf(q);
      if (typeof range === 'string') return reply.code(400).send(errorBody('BAD_REQUEST', range));
      const span = reportSpan(range, Date.now(), { from: 'querystring/from', to: 'querystring/to' });
      if (typeof span === 'string') return reply.code(400).send(errorBody('BAD_REQUEST', span));
      const { from, to } = span;
      await face.audit.flush();
      const rows = await loginsPerDay(face.store, from, to);
      if (q.format === 'csv') return csv(reply, 'logins-per-day', reportCsv(DAILY_COLUMNS, rows));
      return {
        from: new Date(from).toISOString().slice(0, 10),
        to: new Date(to).toISOString().slice(0, 10),
        rows,
      };
    },
  );

  const paged = <T extends object>(
    url: string,
    operationId: string,
    summary: string,
    row: TSchema,
    columns: readonly (keyof T & string)[],
    run: (limit: number, after: string | undefined, q: Static<typeof UnusedQuery>) => Promise<ReportPage<T>>,
    query: TSchema = PagedQuery,
  ) =>
    app.get<{ Querystring: Static<typeof UnusedQuery> }>(
      url,
      {
        config,
        preValidation: refuseUnknown(Object.keys((query as typeof UnusedQuery).properties)),
        schema: {
          ...common,
          operationId,
          summary,
          querystring: query,
          response: {
            200: jsonOrCsv('a page of rows; `next` goes on (null at the end)', page(row)),
            ...adminErrors(),
          },
        },
      },
      async (request, reply) => {
        const q = request.query;
        const limit = limitOf(q, reply);
        if (limit === null) return reply;
        if (q.format === 'csv')
          return csv(
            reply,
            url.split('/').pop()!,
            pagesCsv(columns, (after) => run(PAGE_CAP, after, q), q.cursor),
          );
        return run(limit, q.cursor, q);
      },
    );

  paged(
    '/reports/users-without-device',
    'reportUsersWithoutDevice',
    'Users with no enrolled device (no token, or none active), in name order',
    UserRow,
    USER_COLUMNS,
    (limit, after) => usersWithoutDevice(face.store, limit, after),
  );
  paged(
    '/reports/locked-users',
    'reportLockedUsers',
    'Users locked now by failed attempts, in name order',
    LockedRow,
    LOCKED_COLUMNS,
    (limit, after) => lockedUsers(face.store, Date.now(), limit, after),
  );
  paged(
    '/reports/unused-tokens',
    'reportUnusedTokens',
    'Tokens never used, or with `days` also those not used for that many days',
    TokenRow,
    TOKEN_COLUMNS,
    (limit, after, q) =>
      unusedTokens(face.store, Date.now(), q.days === undefined ? undefined : Number(q.days), limit, after),
    UnusedQuery,
  );

  app.get<{ Querystring: Static<typeof DevicesQuery> }>(
    '/reports/devices',
    {
      config,
      preValidation: refuseUnknown(Object.keys(DevicesQuery.properties)),
      schema: {
        ...common,
        operationId: 'reportDevices',
        summary:
          'Devices by registration type (offline: a seed provisioned once; online: registered with the server), type and status',
        querystring: DevicesQuery,
        response: { 200: jsonOrCsv('the counts', Devices), ...adminErrors() },
      },
    },
    async (request, reply) => {
      const d = await devicesByRegistration(face.store);
      return request.query.format === 'csv' ? csv(reply, 'devices', devicesCsv(d)) : d;
    },
  );
}
