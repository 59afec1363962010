import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  createClient,
  deleteClient,
  PUSH_HOLD_SECONDS,
  publicClient,
  updateClient,
} from '../../src/admin/index.ts';
import { CLIENT_KINDS, METHODS, TesseraError } from '../../src/model/index.ts';
import { ADMIN_KEY, described, link, noContent } from '../shared/index.ts';
import { adminContext } from './actor.ts';
import type { AdminFaceOptions } from './options.ts';
import { adminErrors, ClientList, ClientView, CreatedClient, NAMED, WRITE } from './replies.ts';
import { IdParams, MethodName, Name } from './schemas.ts';

const Cidr = Type.String({
  maxLength: 64,
  pattern: '^[0-9a-fA-F:.]+(/[0-9]{1,3})?$',
  description:
    'an IPv4 or IPv6 address or network (10.0.0.0/8, 2001:db8::/32); anything else is a 400 INVALID_CIDR',
});
const ClientFields = {
  allowedCidrs: Type.Optional(Type.Array(Cidr, { maxItems: 64 })),
  challengeText: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  enabled: Type.Optional(Type.Boolean()),
  unknownUserPolicy: Type.Optional(Type.Union([Type.Literal('reject'), Type.Literal('passthrough')])),
  rejectDetail: Type.Optional(Type.Union([Type.Literal('generic'), Type.Literal('reason')])),
  firstFactor: Type.Optional(
    Type.Union([Type.Literal('pin'), Type.Literal('upstream'), Type.Literal('ldap')]),
  ),
  /** Share of accepts and challenges kept in the authentication log (0 = none); refusals always. */
  auditSuccessRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  /** Push logins: poll (the NAS asks again), hold (the first request waits for the tap), code to phone. */
  pushMode: Type.Optional(Type.Union([Type.Literal('poll'), Type.Literal('hold'), Type.Literal('code')])),
  pushHoldSeconds: Type.Optional(
    Type.Integer({ minimum: PUSH_HOLD_SECONDS.min, maximum: PUSH_HOLD_SECONDS.max }),
  ),
  challenge: Type.Optional(
    Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], {
      description:
        '`disabled`: only a one-shot PIN+code (or code) works; a challenge request is a reject (CHALLENGE_DISABLED)',
    }),
  ),
  methodChoice: Type.Optional(
    Type.Union([Type.Literal('menu'), Type.Literal('default')], {
      description:
        "with several eligible tokens: offer a menu of methods, or start the user's default token at once (menu without one)",
    }),
  ),
};
const AllowedMethods = Type.Array(MethodName, {
  minItems: 1,
  maxItems: METHODS.length,
  uniqueItems: true,
  description: 'only tokens of these methods sign in through this client; absent: every method',
});
const ClientBody = Type.Object(
  {
    name: Name,
    kind: Type.Union(CLIENT_KINDS.map((k) => Type.Literal(k))),
    ...ClientFields,
    allowedMethods: Type.Optional(AllowedMethods),
  },
  { additionalProperties: false },
);
const ClientPatch = Type.Object(
  {
    name: Type.Optional(Name),
    ...ClientFields,
    allowedMethods: Type.Optional(
      Type.Union([AllowedMethods, Type.Null({ description: 'null: every method again' })]),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** Where a created client leads. */
const clientLinks = Object.fromEntries(
  ['getClient', 'updateClient', 'deleteClient'].map((op) => [op, link(op, { id: '$response.body#/id' })]),
);

export async function clientRoutes(app: FastifyInstance, face: AdminFaceOptions): Promise<void> {
  const tags = ['clients'];
  app.post<{ Body: Static<typeof ClientBody> }>(
    '/clients',
    {
      config: { permission: 'clients:write' },
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
  app.get('/clients', { config: { permission: 'clients:read' }, schema: listSchema }, async () => ({
    items: (await face.store.listClients()).map(publicClient),
  }));
  app.get<{ Params: Static<typeof IdParams> }>(
    '/clients/:id',
    {
      config: { permission: 'clients:read' },
      schema: {
        tags,
        operationId: 'getClient',
        security: ADMIN_KEY,
        params: IdParams,
        response: { 200: described('the client (never its key)', ClientView), ...adminErrors(...NAMED) },
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
      config: { permission: 'clients:write' },
      schema: {
        tags,
        operationId: 'updateClient',
        security: ADMIN_KEY,
        params: IdParams,
        body: ClientPatch,
        response: { 200: described('the client, changed', ClientView), ...adminErrors(...NAMED, ...WRITE) },
      },
    },
    async (request) =>
      publicClient(await updateClient(adminContext(face, request), request.params.id, request.body)),
  );
  app.delete<{ Params: Static<typeof IdParams> }>(
    '/clients/:id',
    {
      config: { permission: 'clients:write' },
      schema: {
        tags,
        operationId: 'deleteClient',
        security: ADMIN_KEY,
        params: IdParams,
        response: { 204: noContent('deleted; its key stops working'), ...adminErrors(...NAMED, ...WRITE) },
      },
    },
    async (request, reply) => {
      await deleteClient(adminContext(face, request), request.params.id);
      return reply.code(204).send();
    },
  );
}
