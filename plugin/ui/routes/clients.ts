import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  createClient,
  deleteClient,
  publicClient,
  rotateClientKey,
  updateClient,
} from '../../../src/admin/index.ts';
import { METHODS, type Method } from '../../../src/model/index.ts';
import { consoleContext, fieldAttempt } from '../actor.ts';
import { echo, type FieldErrors, parseForm } from '../forms.ts';
import type { UiFaceOptions } from '../options.ts';
import { done, page } from '../render.ts';

const NewClient = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, message: 'Enter a name (up to 128 characters).' }),
    kind: Type.Union([Type.Literal('radius'), Type.Literal('keycloak'), Type.Literal('api')], {
      message: 'Choose RADIUS, Keycloak or API.',
    }),
    firstFactor: Type.Union([Type.Literal('pin'), Type.Literal('upstream'), Type.Literal('ldap')], {
      message: 'Choose how the first factor is checked.',
    }),
    allowedCidrs: Type.Optional(Type.String({ maxLength: 2048, message: 'Networks separated by commas.' })),
  },
  { additionalProperties: false },
);

const MethodName = Type.Union(
  METHODS.map((m) => Type.Literal(m)),
  { message: 'Choose methods from the list.' },
);
const SignIn = Type.Object(
  {
    challenge: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], {
      message: 'Choose whether a challenge may be asked.',
    }),
    methodChoice: Type.Union([Type.Literal('menu'), Type.Literal('default')], {
      message: 'Choose a menu or the default method.',
    }),
    allowedMethods: Type.Optional(
      Type.Union([MethodName, Type.Array(MethodName, { maxItems: METHODS.length })]),
    ),
  },
  { additionalProperties: false },
);

const PushForm = Type.Object(
  {
    pushMode: Type.Union([Type.Literal('poll'), Type.Literal('hold'), Type.Literal('code')], {
      message: 'Choose poll, hold or code.',
    }),
    // as the admin API allows (plugin/admin/clients.ts): 1 to 120 seconds
    pushHoldSeconds: Type.String({
      pattern: '^(?:[1-9][0-9]?|1[01][0-9]|120)$',
      message: 'Hold time: whole seconds from 1 to 120.',
    }),
  },
  { additionalProperties: false },
);

/** No box ticked, or every box ticked, is no restriction. */
function allowedOf(value: Method | Method[] | undefined): Method[] | null {
  const picked = [...new Set(value === undefined ? [] : Array.isArray(value) ? value : [value])];
  return picked.length === 0 || picked.length === METHODS.length ? null : picked;
}

export async function clientRoutes(app: FastifyInstance, face: UiFaceOptions): Promise<void> {
  const write = { config: { permission: 'clients:write' as const } };
  app.get('/clients', { config: { permission: 'clients:read' } }, async (request, reply) =>
    clientsPage(request, reply, face, {}),
  );

  app.post('/clients', write, async (request, reply) => {
    const form = parseForm(NewClient, request.body);
    const values = echo(request.body);
    if (!form.ok) return clientsPage(request, reply.code(400), face, { errors: form.errors, values });
    const { allowedCidrs, ...rest } = form.value;
    const cidrs = allowedCidrs
      ? allowedCidrs
          .split(',')
          .map((c) => c.trim())
          .filter(Boolean)
      : [];
    let apiKey = '';
    const errors = await fieldAttempt('allowedCidrs', async () => {
      apiKey = (await createClient(consoleContext(face, request), { ...rest, allowedCidrs: cidrs })).apiKey;
    });
    if (errors) return clientsPage(request, reply.code(400), face, { errors, values });
    request.consoleSession!.reveal = { label: `API key of ${rest.name}`, value: apiKey };
    return done(request, reply, '/ui/clients', `Client ${rest.name} created.`);
  });

  app.post<{ Params: { id: string } }>('/clients/:id/rotate', write, async (request, reply) => {
    const { client, apiKey } = await rotateClientKey(consoleContext(face, request), request.params.id);
    request.consoleSession!.reveal = { label: `New API key of ${client.name}`, value: apiKey };
    return done(request, reply, '/ui/clients', `Key of ${client.name} rotated; the old key no longer works.`);
  });
  for (const [path, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const)
    app.post<{ Params: { id: string } }>(`/clients/:id/${path}`, write, async (request, reply) => {
      const client = await updateClient(consoleContext(face, request), request.params.id, { enabled });
      return done(request, reply, '/ui/clients', `Client ${client.name} ${path}d.`);
    });
  app.post<{ Params: { id: string } }>('/clients/:id/sign-in', write, async (request, reply) => {
    const form = parseForm(SignIn, request.body);
    if (!form.ok) return clientsPage(request, reply.code(400), face, { errors: form.errors });
    const { challenge, methodChoice, allowedMethods } = form.value;
    const client = await updateClient(consoleContext(face, request), request.params.id, {
      challenge,
      methodChoice,
      allowedMethods: allowedOf(allowedMethods),
    });
    return done(request, reply, '/ui/clients', `Sign-in methods of ${client.name} saved.`);
  });
  app.post<{ Params: { id: string } }>('/clients/:id/push', write, async (request, reply) => {
    const form = parseForm(PushForm, request.body);
    if (!form.ok)
      return clientsPage(request, reply.code(400), face, { errors: form.errors, push: request.params.id });
    const client = await updateClient(consoleContext(face, request), request.params.id, {
      pushMode: form.value.pushMode,
      pushHoldSeconds: Number(form.value.pushHoldSeconds),
    });
    return done(request, reply, '/ui/clients', `Push mode of ${client.name} saved.`);
  });
  app.post<{ Params: { id: string } }>('/clients/:id/delete', write, async (request, reply) => {
    await deleteClient(consoleContext(face, request), request.params.id);
    return done(request, reply, '/ui/clients', 'Client deleted; its key no longer works.');
  });
}

async function clientsPage(
  request: FastifyRequest,
  reply: FastifyReply,
  face: UiFaceOptions,
  /** `push`: the client whose push form the errors belong to. */
  data: { errors?: FieldErrors; values?: Record<string, string>; push?: string },
) {
  const clients = (await face.store.listClients()).filter((c) => c.kind !== 'node').map(publicClient);
  return page(request, reply, 'clients', 'Clients', { clients, methods: METHODS, ...data });
}
