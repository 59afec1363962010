import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  createAdminKey,
  createClient,
  deleteClient,
  publicClient,
  updateClient,
} from '../../src/admin/index.ts';
import { TesseraError } from '../../src/model/index.ts';
import { ADMIN_KEY, described, link, noContent } from '../shared/index.ts';
import { adminContext } from './actor.ts';
import type { AdminFaceOptions } from './options.ts';
import { adminErrors, ClientList, ClientView, CreatedAdminKey, CreatedClient, WRITE } from './replies.ts';
import { IdParams, Name } from './schemas.ts';

const Cidr = Type.String({ maxLength: 64, pattern: '^[0-9a-fA-F:.]+(/[0-9]{1,3})?$' });
const ClientFields = {
  allowedCidrs: Type.Optional(Type.Array(Cidr, { maxItems: 64 })),
  challengeText: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  enabled: Type.Optional(Type.Boolean()),
  unknownUserPolicy: Type.Optional(Type.Union([Type.Literal('reject'), Type.Literal('passthrough')])),
  rejectDetail: Type.Optional(Type.Union([Type.Literal('generic'), Type.Literal('reason')])),
  firstFactor: Type.Optional(Type.Union([Type.Literal('pin'), Type.Literal('upstream')])),
};
const ClientBody = Type.Object(
  {
    name: Name,
    kind: Type.Union([Type.Literal('radius'), Type.Literal('keycloak'), Type.Literal('api')]),
    ...ClientFields,
  },
  { additionalProperties: false },
);
const ClientPatch = Type.Object(
  { name: Type.Optional(Name), ...ClientFields },
  { additionalProperties: false, minProperties: 1 },
);
const KeyBody = Type.Object({ name: Name }, { additionalProperties: false });

/** Where a created client leads. */
const clientLinks = Object.fromEntries(
  ['getClient', 'updateClient', 'deleteClient'].map((op) => [op, link(op, { id: '$response.body#/id' })]),
);

export async function clientRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  const tags = ['clients'];
  app.post<{ Body: Static<typeof ClientBody> }>(
    '/clients',
    {
      schema: {
        tags,
        operationId: 'createClient',
        security: ADMIN_KEY,
        body: ClientBody,
        response: { 201: CreatedClient, ...adminErrors(...WRITE) },
      },
      links: { 201: clientLinks },
    },
    async (request, reply) => {
      const { client, apiKey } = await createClient(adminContext(face, request), request.body);
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ ...publicClient(client), apiKey });
    },
  );
  const listSchema = {
    tags,
    operationId: 'listClients',
    security: ADMIN_KEY,
    response: { 200: ClientList, ...adminErrors() },
  };
  app.get('/clients', { schema: listSchema }, async () => ({
    items: (await face.store.listClients()).map(publicClient),
  }));
  app.get<{ Params: Static<typeof IdParams> }>(
    '/clients/:id',
    {
      schema: {
        tags,
        operationId: 'getClient',
        security: ADMIN_KEY,
        params: IdParams,
        response: { 200: described('the client (never its key)', ClientView), ...adminErrors(404) },
      },
    },
    async (request) => {
      const client = await face.store.getClient(request.params.id);
      if (!client) throw new TesseraError('NOT_FOUND', `client "${request.params.id}" does not exist`);
      return publicClient(client);
    },
  );
  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof ClientPatch> }>(
    '/clients/:id',
    {
      schema: {
        tags,
        operationId: 'updateClient',
        security: ADMIN_KEY,
        params: IdParams,
        body: ClientPatch,
        response: { 200: described('the client, changed', ClientView), ...adminErrors(404, ...WRITE) },
      },
    },
    async (request) =>
      publicClient(await updateClient(adminContext(face, request), request.params.id, request.body)),
  );
  app.delete<{ Params: Static<typeof IdParams> }>(
    '/clients/:id',
    {
      schema: {
        tags,
        operationId: 'deleteClient',
        security: ADMIN_KEY,
        params: IdParams,
        response: { 204: noContent('deleted; its key stops working'), ...adminErrors(404, ...WRITE) },
      },
    },
    async (request, reply) => {
      await deleteClient(adminContext(face, request), request.params.id);
      return reply.code(204).send();
    },
  );
  app.post<{ Body: Static<typeof KeyBody> }>(
    '/admin-keys',
    {
      schema: {
        tags: ['admin keys'],
        operationId: 'createAdminKey',
        security: ADMIN_KEY,
        body: KeyBody,
        response: { 201: CreatedAdminKey, ...adminErrors(...WRITE) },
      },
    },
    async (request, reply) => {
      const { key, apiKey } = await createAdminKey(adminContext(face, request), request.body.name);
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ id: key.id, name: key.name, createdAt: key.createdAt, apiKey });
    },
  );
}
