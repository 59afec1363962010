import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  addSource,
  getSource,
  listSources,
  probeSource,
  publicSource,
  removeSource,
  sealSource,
  syncSource,
} from '../../src/directory/index.ts';
import { TesseraError } from '../../src/model/index.ts';
import { syncInviter } from '../../src/portal/index.ts';
import {
  ADMIN_KEY,
  callerActor,
  described,
  ErrorReply,
  errorReplies,
  link,
  noContent,
} from '../shared/index.ts';
import { adminContext } from './actor.ts';
import type { AdminFaceOptions } from './options.ts';

const SourceName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' });
const Preset = Type.Union([Type.Literal('openldap'), Type.Literal('ad')]);
const Dn = Type.String({ minLength: 1, maxLength: 1024, pattern: '^[^\\x00-\\x1f]+$' });
const Filter = Type.String({ minLength: 3, maxLength: 4096, pattern: '^\\(.*\\)$' });

const SourceBody = Type.Object(
  {
    name: SourceName,
    url: Type.String({
      minLength: 8,
      maxLength: 512,
      pattern: '^ldaps?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$',
      description: 'ldap:// or ldaps://, host and port only',
    }),
    startTls: Type.Optional(Type.Boolean({ description: 'upgrade an ldap:// connection with StartTLS' })),
    bindDn: Dn,
    bindPassword: Type.String({
      minLength: 1,
      maxLength: 1024,
      description: 'sealed at rest, never returned',
    }),
    baseDn: Dn,
    preset: Preset,
    userFilter: Type.Optional(Filter),
    groupFilter: Type.Optional(Filter),
    caFile: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1024, description: 'a PEM CA file on every node' }),
    ),
    connectTimeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 300_000 })),
    pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
    maxDisableFraction: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    syncIntervalSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 604_800,
        description: 'seconds between scheduled syncs on the master (0 or absent: no schedule)',
      }),
    ),
    inviteNewUsers: Type.Optional(
      Type.Boolean({
        description:
          'a sync mails a portal invitation to each user it creates that has a mail address and no token',
      }),
    ),
  },
  { additionalProperties: false },
);

/** Everything but the password: the response schema drops whatever it does not name. */
const PublicSource = Type.Object({
  name: Type.String(),
  url: Type.String(),
  startTls: Type.Boolean(),
  bindDn: Type.String(),
  baseDn: Type.String(),
  preset: Preset,
  userFilter: Type.Optional(Type.String()),
  groupFilter: Type.Optional(Type.String()),
  caFile: Type.Optional(Type.String()),
  connectTimeoutMs: Type.Integer(),
  timeoutMs: Type.Integer(),
  pageSize: Type.Integer(),
  maxDisableFraction: Type.Number(),
  syncIntervalSeconds: Type.Optional(Type.Integer()),
  inviteNewUsers: Type.Optional(Type.Boolean()),
  createdAt: Type.Integer(),
});
const SourceParams = Type.Object({ name: SourceName });
const Flag = Type.Union([Type.Literal('true'), Type.Literal('false')]);
const SyncQuery = Type.Object(
  { dryRun: Type.Optional(Flag), force: Type.Optional(Flag) },
  { additionalProperties: false },
);
const SyncResult = Type.Object({
  created: Type.Integer(),
  updated: Type.Integer(),
  disabled: Type.Integer(),
  deleted: Type.Integer(),
  skipped: Type.Integer(),
  invited: Type.Integer({ description: 'invitations mailed to created users (inviteNewUsers)' }),
  dryRun: Type.Boolean(),
});
const ProbeResult = Type.Object({
  ok: Type.Literal(true),
  sampleCount: Type.Integer(),
  elapsedMs: Type.Integer(),
});
const NoContent = noContent('removed');

/** The answers every directory route can give besides its success. */
const ERRORS = errorReplies(400, 401, 403, 408, 413, 414, 415, 429, 431, 503);

/**
 * Routes that talk to the directory: 422 with one code per failure (DIRECTORY_UNREACHABLE,
 * DIRECTORY_TLS, DIRECTORY_BAD_CREDENTIALS, DIRECTORY_BAD_BASE_DN); a bad filter is a 400
 * DIRECTORY_BAD_FILTER; a sync over its disable limit is a 409 DIRECTORY_SYNC_LIMIT.
 */
const DIRECTORY_ERRORS = {
  ...ERRORS,
  ...errorReplies(404, 409),
  422: described('the directory could not be reached or refused the bind or search', ErrorReply),
};

export async function directoryRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  const tags = ['directory'];
  app.post<{ Body: Static<typeof SourceBody> }>(
    '/directory/sources',
    {
      config: { permission: 'directory:write' },
      schema: {
        tags,
        operationId: 'createDirectorySource',
        security: ADMIN_KEY,
        body: SourceBody,
        response: {
          201: described('the source, without its bind password', PublicSource),
          ...ERRORS,
          ...errorReplies(409),
        },
      },
      // test and sync connect to the source's host: no link leads a fuzzer there
      links: {
        201: { deleteDirectorySource: link('deleteDirectorySource', { name: '$response.body#/name' }) },
      },
    },
    async (request, reply) => {
      const ctx = adminContext(face, request);
      const source = sealSource(request.body, ctx.keyring, Date.now());
      await addSource(ctx.store, source);
      ctx.audit('directory.source.create', { source: source.name });
      return reply.code(201).send(publicSource(source));
    },
  );
  app.get(
    '/directory/sources',
    {
      config: { permission: 'directory:read' },
      schema: {
        tags,
        operationId: 'listDirectorySources',
        security: ADMIN_KEY,
        response: {
          200: described(
            'every source, without bind passwords',
            Type.Object({ items: Type.Array(PublicSource) }),
          ),
          ...ERRORS,
        },
      },
    },
    async () => ({ items: (await listSources(face.store)).map(publicSource) }),
  );
  app.delete<{ Params: Static<typeof SourceParams> }>(
    '/directory/sources/:name',
    {
      config: { permission: 'directory:write' },
      schema: {
        tags,
        operationId: 'deleteDirectorySource',
        security: ADMIN_KEY,
        params: SourceParams,
        response: { 204: NoContent, ...ERRORS, ...errorReplies(404) },
      },
    },
    async (request, reply) => {
      const ctx = adminContext(face, request);
      if (!(await removeSource(ctx.store, request.params.name))) {
        throw new TesseraError('NOT_FOUND', 'no directory source by that name');
      }
      ctx.audit('directory.source.delete', { source: request.params.name });
      return reply.code(204).send();
    },
  );
  app.post<{ Params: Static<typeof SourceParams> }>(
    '/directory/sources/:name/test',
    {
      config: { permission: 'directory:write' },
      schema: {
        tags,
        operationId: 'testDirectorySource',
        security: ADMIN_KEY,
        params: SourceParams,
        response: { 200: described('the bind and a sample search worked', ProbeResult), ...DIRECTORY_ERRORS },
      },
    },
    async (request) => {
      const ctx = adminContext(face, request);
      return probeSource(await getSource(ctx.store, request.params.name), ctx.keyring);
    },
  );
  app.post<{ Params: Static<typeof SourceParams>; Querystring: Static<typeof SyncQuery> }>(
    '/directory/sources/:name/sync',
    {
      config: { permission: 'directory:sync' },
      schema: {
        tags,
        operationId: 'syncDirectorySource',
        security: ADMIN_KEY,
        params: SourceParams,
        querystring: SyncQuery,
        response: {
          200: described('what the sync changed (or would change, on a dry run)', SyncResult),
          ...DIRECTORY_ERRORS,
        },
      },
    },
    async (request) => {
      const ctx = adminContext(face, request);
      const dryRun = request.query.dryRun === 'true';
      const source = await getSource(ctx.store, request.params.name);
      const make = face.selfService;
      // invitations are audited with this caller, like the sync itself
      const invite = make
        ? syncInviter({ ...make(callerActor(request), request.ip), audit: ctx.audit })
        : undefined;
      const r = await syncSource(ctx, source, {
        dryRun,
        force: request.query.force === 'true',
        ...(invite ? { invite } : {}),
      });
      ctx.audit('directory.sync', {
        source: source.name,
        dryRun: String(dryRun),
        result: `created=${r.created} updated=${r.updated} disabled=${r.disabled} skipped=${r.skipped} invited=${r.invited}`,
      });
      return {
        created: r.created,
        updated: r.updated,
        disabled: r.disabled,
        deleted: r.deleted,
        skipped: r.skipped,
        invited: r.invited,
        dryRun,
      };
    },
  );
}
