import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { updateSettings } from '../../../src/admin/index.ts';
import { publicSource } from '../../../src/directory/source.ts';
import { consoleContext } from '../actor.ts';
import { echo, type FieldErrors, parseForm } from '../forms.ts';
import type { UiFaceOptions } from '../options.ts';
import { done, page } from '../render.ts';

const Whole = (min: number, max: number, message: string) =>
  Type.String({ pattern: '^[0-9]{1,7}$', message, minimum: min, maximum: max });

const SettingsForm = Type.Object(
  {
    issuer: Type.String({
      minLength: 1,
      maxLength: 64,
      message: 'Enter the name apps show (up to 64 characters).',
    }),
    newUserMode: Type.Union(
      [Type.Literal('immediate'), Type.Literal('after-first-token'), Type.Literal('manual')],
      {
        message: 'Choose when a new user needs a second factor.',
      },
    ),
    unknownUserPolicy: Type.Union([Type.Literal('reject'), Type.Literal('passthrough')], {
      message: 'Choose reject or passthrough.',
    }),
    lockoutThreshold: Whole(1, 1000, 'A whole number from 1 to 1000.'),
    throttleFailures: Whole(0, 1000, 'A whole number from 0 (off) to 1000.'),
  },
  { additionalProperties: false },
);

/** The numbers' ranges, checked after the pattern (TypeBox checks `minimum` on numbers only). */
function rangeErrors(v: Record<string, string>): FieldErrors {
  const errors: FieldErrors = {};
  const t = Number(v.lockoutThreshold);
  if (t < 1 || t > 1000) errors.lockoutThreshold = 'A whole number from 1 to 1000.';
  const f = Number(v.throttleFailures);
  if (f > 1000) errors.throttleFailures = 'A whole number from 0 (off) to 1000.';
  return errors;
}

export async function settingsRoutes(app: FastifyInstance, face: UiFaceOptions): Promise<void> {
  app.get('/settings', { config: { permission: 'settings:read' } }, async (request, reply) =>
    settingsPage(request, reply, face, {}),
  );
  app.post('/settings', { config: { permission: 'settings:write' } }, async (request, reply) => {
    const form = parseForm(SettingsForm, request.body);
    const values = echo(request.body);
    if (!form.ok) return settingsPage(request, reply.code(400), face, { errors: form.errors, values });
    const range = rangeErrors(form.value);
    if (Object.keys(range).length)
      return settingsPage(request, reply.code(400), face, { errors: range, values });
    const v = form.value;
    await updateSettings(consoleContext(face, request), {
      issuer: v.issuer,
      newUserMode: v.newUserMode,
      unknownUserPolicy: v.unknownUserPolicy,
      lockout: { threshold: Number(v.lockoutThreshold) },
      throttle: { failuresPerWindow: Number(v.throttleFailures) },
    });
    return done(request, reply, '/ui/settings', 'Settings saved.');
  });
  app.get('/directory', { config: { permission: 'directory:read' } }, async (request, reply) => {
    const settings = await face.adminContext('console').settings();
    return page(request, reply, 'directory', 'Directory sources', {
      sources: (settings.directorySources ?? []).map(publicSource),
    });
  });
}

async function settingsPage(
  request: FastifyRequest,
  reply: FastifyReply,
  face: UiFaceOptions,
  data: { errors?: FieldErrors; values?: Record<string, string> },
) {
  const s = await face.adminContext('console').settings();
  const current = {
    issuer: s.issuer,
    newUserMode: s.newUserMode,
    unknownUserPolicy: s.unknownUserPolicy,
    lockoutThreshold: String(s.lockout.threshold),
    throttleFailures: String(s.throttle.failuresPerWindow),
  };
  return page(request, reply, 'settings', 'Settings', {
    settings: s,
    values: { ...current, ...data.values },
    errors: data.errors,
  });
}
