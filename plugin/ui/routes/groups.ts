import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { auditChange } from '../../../src/admin/index.ts';
import { METHODS, type Method, type MethodSwitch } from '../../../src/model/index.ts';
import { consoleContext } from '../actor.ts';
import { echo, type FieldErrors, parseForm } from '../forms.ts';
import type { UiFaceOptions } from '../options.ts';
import { done, page } from '../render.ts';

const Switch = Type.Union([Type.Literal('enabled'), Type.Literal('disabled'), Type.Literal('inherit')], {
  message: 'Choose Enabled, Disabled or Inherit.',
});
// every method the form shows (METHODS), each a switch
const Policy = Type.Object(Object.fromEntries(METHODS.map((m) => [m, Switch])), {
  additionalProperties: false,
});
const NewGroup = Type.Object(
  {
    name: Type.String({
      pattern: '^[a-z0-9][a-z0-9._-]{0,63}$',
      message: 'Lower-case letters, digits, . _ - (up to 64).',
    }),
    description: Type.Optional(Type.String({ maxLength: 256, message: 'At most 256 characters.' })),
  },
  { additionalProperties: false },
);

function methodsOf(form: Record<string, string>): Partial<Record<Method, MethodSwitch>> {
  const out: Partial<Record<Method, MethodSwitch>> = {};
  for (const m of METHODS) if (form[m] && form[m] !== 'inherit') out[m] = form[m] as MethodSwitch;
  return out;
}

export async function groupRoutes(app: FastifyInstance, face: UiFaceOptions): Promise<void> {
  const write = { config: { permission: 'groups:write' as const } };
  app.get('/groups', { config: { permission: 'groups:read' } }, async (request, reply) =>
    groupsPage(request, reply, face, {}),
  );

  app.post('/groups', write, async (request, reply) => {
    const form = parseForm(NewGroup, request.body);
    if (!form.ok)
      return groupsPage(request, reply.code(400), face, { errors: form.errors, values: echo(request.body) });
    if (await face.store.getGroup(form.value.name))
      return groupsPage(request, reply.code(400), face, {
        errors: { name: `A group named "${form.value.name}" exists already.` },
        values: echo(request.body),
      });
    const group = {
      name: form.value.name,
      methods: {},
      permanent: false,
      ...(form.value.description ? { description: form.value.description } : {}),
    };
    await face.store.putGroup(group);
    auditChange(consoleContext(face, request), 'group.create', { group: group.name }, null, group);
    return done(request, reply, '/ui/groups', `Group ${group.name} created.`);
  });

  app.post<{ Params: { name: string } }>('/groups/:name/policy', write, async (request, reply) => {
    const current = await face.store.getGroup(request.params.name);
    if (!current) return done(request, reply, '/ui/groups', `Group "${request.params.name}" does not exist.`);
    const form = parseForm(Policy, request.body);
    if (!form.ok) return groupsPage(request, reply.code(400), face, { errors: form.errors });
    const next = { ...current, methods: methodsOf(form.value) };
    await face.store.putGroup(next);
    auditChange(consoleContext(face, request), 'group.update', { group: current.name }, current, next);
    return done(request, reply, '/ui/groups', `Method policy of ${current.name} saved.`);
  });

  app.post<{ Params: { name: string } }>('/groups/:name/delete', write, async (request, reply) => {
    const current = await face.store.getGroup(request.params.name);
    if (!current) return done(request, reply, '/ui/groups', `Group "${request.params.name}" does not exist.`);
    if (current.permanent)
      return done(request, reply, '/ui/groups', `Group ${current.name} is permanent and stays.`);
    await face.store.deleteGroup(current.name);
    consoleContext(face, request).audit('group.delete', { group: current.name });
    return done(request, reply, '/ui/groups', `Group ${current.name} deleted.`);
  });
}

async function groupsPage(
  request: FastifyRequest,
  reply: FastifyReply,
  face: UiFaceOptions,
  data: { errors?: FieldErrors; values?: Record<string, string> },
) {
  const settings = await face.adminContext('console').settings();
  return page(request, reply, 'groups', 'Groups', {
    groups: await face.store.listGroups(),
    methods: METHODS,
    global: settings.methods,
    ...data,
  });
}
