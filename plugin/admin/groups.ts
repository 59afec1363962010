import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { auditChange } from '../../src/admin/index.ts';
import { TesseraError } from '../../src/model/index.ts';
import { ADMIN_KEY, described, ErrorReply, link, noContent } from '../shared/index.ts';
import { adminContext } from './actor.ts';
import type { AdminFaceOptions } from './options.ts';
import { adminErrors, GroupList, GroupView, NAMED, WRITE } from './replies.ts';
import { Methods, Name } from './schemas.ts';

const GroupBody = Type.Object(
  {
    name: Name,
    description: Type.Optional(Type.String({ maxLength: 256 })),
    methods: Type.Optional(Methods),
  },
  { additionalProperties: false },
);
const GroupParams = Type.Object({ name: Name });
const GroupPatch = Type.Object(
  { description: Type.Optional(Type.String({ maxLength: 256 })), methods: Type.Optional(Methods) },
  { additionalProperties: false, minProperties: 1 },
);

/** Where a created group leads. */
const groupLinks = {
  ...Object.fromEntries(
    ['updateGroup', 'deleteGroup'].map((op) => [op, link(op, { name: '$response.body#/name' })]),
  ),
  createUserInGroup: link('createUser', {}, { group: '$response.body#/name' }),
};

export async function groupRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  const store = face.store;
  const tags = ['groups'];
  app.post<{ Body: Static<typeof GroupBody> }>(
    '/groups',
    {
      config: { permission: 'groups:write' },
      schema: {
        tags,
        operationId: 'createGroup',
        security: ADMIN_KEY,
        body: GroupBody,
        response: { 201: described('the group, created', GroupView), ...adminErrors(...WRITE) },
      },
      links: { 201: groupLinks },
    },
    async (request, reply) => {
      if (await store.getGroup(request.body.name))
        throw new TesseraError('CONFLICT', `group "${request.body.name}" exists`);
      const group = { ...request.body, methods: request.body.methods ?? {}, permanent: false };
      await store.putGroup(group);
      auditChange(adminContext(face, request), 'group.create', { group: group.name }, null, group);
      return reply.code(201).send(group);
    },
  );
  const listSchema = {
    tags,
    operationId: 'listGroups',
    security: ADMIN_KEY,
    response: { 200: GroupList, ...adminErrors() },
  };
  app.get('/groups', { config: { permission: 'groups:read' }, schema: listSchema }, async () => ({
    items: await store.listGroups(),
  }));
  app.patch<{ Params: Static<typeof GroupParams>; Body: Static<typeof GroupPatch> }>(
    '/groups/:name',
    {
      config: { permission: 'groups:write' },
      schema: {
        tags,
        operationId: 'updateGroup',
        security: ADMIN_KEY,
        params: GroupParams,
        body: GroupPatch,
        response: { 200: described('the group, changed', GroupView), ...adminErrors(...NAMED, ...WRITE) },
      },
    },
    async (request) => {
      const current = await store.getGroup(request.params.name);
      if (!current) throw new TesseraError('NOT_FOUND', `group "${request.params.name}" does not exist`);
      const next = { ...current, ...request.body, methods: { ...current.methods, ...request.body.methods } };
      await store.putGroup(next);
      auditChange(adminContext(face, request), 'group.update', { group: next.name }, current, next);
      return next;
    },
  );
  app.delete<{ Params: Static<typeof GroupParams> }>(
    '/groups/:name',
    {
      config: { permission: 'groups:write' },
      schema: {
        tags,
        operationId: 'deleteGroup',
        security: ADMIN_KEY,
        params: GroupParams,
        response: {
          204: noContent('deleted'),
          ...adminErrors(...NAMED, ...WRITE),
          409: described('the Default group, or a write on a read-only replica', ErrorReply),
        },
      },
    },
    async (request, reply) => {
      const current = await store.getGroup(request.params.name);
      if (!current) throw new TesseraError('NOT_FOUND', `group "${request.params.name}" does not exist`);
      if (current.permanent) throw new TesseraError('CONFLICT', 'the Default group cannot be deleted');
      await store.deleteGroup(request.params.name);
      adminContext(face, request).audit('group.delete', { group: current.name });
      return reply.code(204).send();
    },
  );
}
