import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  createUser,
  deleteUser,
  publicToken,
  publicUser,
  unlockUser,
  updateUser,
} from '../../src/admin/index.ts';
import { canonicalUsername, requireCanonicalUsername, TesseraError } from '../../src/model/index.ts';
import { ADMIN_KEY, described, link, noContent } from '../shared/index.ts';
import { adminContext } from './actor.ts';
import type { AdminFaceOptions } from './options.ts';
import { adminErrors, CreatedUser, NAMED, UserDetail, UserPage, UserView, WRITE } from './replies.ts';
import { limitOf, Methods, Name, QueryLimit, Username, UserParams } from './schemas.ts';

const Pin = Type.String({ minLength: 4, maxLength: 64 });
const Email = Type.String({ maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' });
const Phone = Type.String({ maxLength: 32, pattern: '^[+0-9 ()-]+$' });

const UserFields = {
  displayName: Type.Optional(Type.String({ maxLength: 256 })),
  email: Type.Optional(Email),
  phone: Type.Optional(Phone),
  group: Type.Optional(Name),
  enabled: Type.Optional(Type.Boolean()),
  mfaRequired: Type.Optional(Type.Boolean()),
  methods: Type.Optional(Methods),
};

const UserBody = Type.Object(
  { username: Username, ...UserFields, pin: Type.Optional(Pin) },
  { additionalProperties: false },
);

/** A PATCH may clear the PIN with null. */
const UserPatchBody = Type.Object(
  { ...UserFields, pin: Type.Optional(Type.Union([Pin, Type.Null()])) },
  { additionalProperties: false, minProperties: 1 },
);

const ListQuery = Type.Object(
  {
    prefix: Type.Optional(Type.String({ maxLength: 128 })),
    after: Type.Optional(Type.String({ maxLength: 128 })),
    limit: Type.Optional(QueryLimit),
  },
  { additionalProperties: false },
);

/** Where a created user leads: its view, changes, tokens, lock and deletion. */
const userLinks = Object.fromEntries(
  [
    'getUser',
    'updateUser',
    'deleteUser',
    'unlockUser',
    'disableUser',
    'enableUser',
    'enrolToken',
    'listTokens',
  ].map((op) => [op, link(op, { username: '$response.body#/username' })]),
);

export async function userRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  const store = face.store;
  const tags = ['users'];

  app.post<{ Body: Static<typeof UserBody> }>(
    '/users',
    {
      config: { permission: 'users:write' },
      schema: {
        tags,
        operationId: 'createUser',
        security: ADMIN_KEY,
        body: UserBody,
        response: { 201: CreatedUser, ...adminErrors(...WRITE) },
      },
      links: { 201: userLinks },
    },
    async (request, reply) => {
      const user = await createUser(adminContext(face, request), request.body);
      return reply.code(201).send({ ...publicUser(user), tokens: [] });
    },
  );

  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/users',
    {
      config: { permission: 'users:read' },
      schema: {
        tags,
        operationId: 'listUsers',
        security: ADMIN_KEY,
        querystring: ListQuery,
        response: { 200: UserPage, ...adminErrors() },
      },
    },
    async (request) => {
      const { limit, prefix, ...rest } = request.query;
      // A prefix is matched against canonical names; one that has no canonical form matches none.
      const canonicalPrefix = prefix ? canonicalUsername(prefix) : '';
      if (canonicalPrefix === null) return { items: [] };
      const page = await store.listUsers({
        ...rest,
        ...(canonicalPrefix ? { prefix: canonicalPrefix } : {}),
        limit: limitOf(limit, 100),
      });
      return { items: page.items.map(publicUser), ...(page.next ? { next: page.next } : {}) };
    },
  );

  app.get<{ Params: Static<typeof UserParams> }>(
    '/users/:username',
    {
      config: { permission: 'users:read' },
      schema: {
        tags,
        operationId: 'getUser',
        security: ADMIN_KEY,
        params: UserParams,
        response: { 200: UserDetail, ...adminErrors(...NAMED) },
      },
    },
    async (request) => {
      const username = requireCanonicalUsername(request.params.username);
      const view = await store.loadAuthView(username);
      if (!view) throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
      const now = Date.now();
      return {
        ...publicUser(view.user),
        locked: view.userState.lockedUntil > now,
        lockedUntil:
          view.userState.lockedUntil > now ? new Date(view.userState.lockedUntil).toISOString() : null,
        failures: view.userState.failures,
        tokens: view.tokens.map((t) => ({ ...publicToken(t), state: view.tokenStates.get(t.serial) })),
      };
    },
  );

  app.patch<{ Params: Static<typeof UserParams>; Body: Static<typeof UserPatchBody> }>(
    '/users/:username',
    {
      config: { permission: 'users:write' },
      schema: {
        tags,
        operationId: 'updateUser',
        security: ADMIN_KEY,
        params: UserParams,
        body: UserPatchBody,
        response: { 200: described('the user, changed', UserView), ...adminErrors(...NAMED, ...WRITE) },
      },
    },
    async (request) =>
      publicUser(await updateUser(adminContext(face, request), request.params.username, request.body)),
  );

  app.delete<{ Params: Static<typeof UserParams> }>(
    '/users/:username',
    {
      config: { permission: 'users:write' },
      schema: {
        tags,
        operationId: 'deleteUser',
        security: ADMIN_KEY,
        params: UserParams,
        response: { 204: noContent('deleted, with its tokens'), ...adminErrors(...NAMED, ...WRITE) },
      },
    },
    async (request, reply) => {
      await deleteUser(adminContext(face, request), request.params.username);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: Static<typeof UserParams> }>(
    '/users/:username/unlock',
    {
      config: { permission: 'users:write' },
      schema: {
        tags,
        operationId: 'unlockUser',
        security: ADMIN_KEY,
        params: UserParams,
        response: { 204: noContent('unlocked, failures reset'), ...adminErrors(...NAMED, ...WRITE) },
      },
    },
    async (request, reply) => {
      await unlockUser(adminContext(face, request), request.params.username);
      return reply.code(204).send();
    },
  );

  for (const [action, enabled] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    app.post<{ Params: Static<typeof UserParams> }>(
      `/users/:username/${action}`,
      {
        config: { permission: 'users:write' },
        schema: {
          tags,
          operationId: `${action}User`,
          security: ADMIN_KEY,
          params: UserParams,
          response: { 200: described(`the user, ${action}d`, UserView), ...adminErrors(...NAMED, ...WRITE) },
        },
      },
      async (request) =>
        publicUser(await updateUser(adminContext(face, request), request.params.username, { enabled })),
    );
  }
}
