import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  createConsoleAccount,
  deleteConsoleAccount,
  listConsoleAccounts,
  MIN_PASSWORD_LENGTH,
  resetConsoleTotp,
} from '../../../src/console/index.ts';
import { requireCanonicalUsername } from '../../../src/model/index.ts';
import { consoleContext, fieldAttempt } from '../actor.ts';
import { echo, type FieldErrors, parseForm } from '../forms.ts';
import type { UiFaceOptions } from '../options.ts';
import { done, page } from '../render.ts';
import type { SessionStore } from '../session.ts';

const NewAccount = Type.Object(
  {
    username: Type.String({
      minLength: 1,
      maxLength: 128,
      message: 'Enter a username (no spaces, no / % { }).',
    }),
    role: Type.Union([Type.Literal('superadmin'), Type.Literal('helpdesk'), Type.Literal('auditor')], {
      message: 'Choose a role.',
    }),
    password: Type.String({
      minLength: MIN_PASSWORD_LENGTH,
      maxLength: 256,
      message: `At least ${MIN_PASSWORD_LENGTH} characters.`,
    }),
  },
  { additionalProperties: false },
);

export async function accountRoutes(app: FastifyInstance, face: UiFaceOptions, sessions: SessionStore) {
  const write = { config: { permission: 'admin-keys:write' as const } };
  app.get('/accounts', { config: { permission: 'admin-keys:read' } }, async (request, reply) =>
    accountsPage(request, reply, face, {}),
  );
  app.post('/accounts', write, async (request, reply) => {
    const form = parseForm(NewAccount, request.body);
    const values = echo(request.body, ['password']);
    if (!form.ok) return accountsPage(request, reply.code(400), face, { errors: form.errors, values });
    const errors = await fieldAttempt('username', () =>
      createConsoleAccount(consoleContext(face, request), form.value),
    );
    if (errors) return accountsPage(request, reply.code(400), face, { errors, values });
    return done(
      request,
      reply,
      '/ui/accounts',
      `Console account ${form.value.username} created; it sets up its code at its first sign-in.`,
    );
  });
  app.post<{ Params: { username: string } }>(
    '/accounts/:username/reset-totp',
    write,
    async (request, reply) => {
      const username = requireCanonicalUsername(request.params.username);
      await resetConsoleTotp(consoleContext(face, request), username);
      sessions.endAll(username);
      return done(request, reply, '/ui/accounts', `${username} sets up a new code at the next sign-in.`);
    },
  );
  app.post<{ Params: { username: string } }>('/accounts/:username/unlock', write, async (request, reply) => {
    const username = requireCanonicalUsername(request.params.username);
    await face.signIn.unlock(consoleContext(face, request), username);
    return done(request, reply, '/ui/accounts', `${username} unlocked.`);
  });
  app.post<{ Params: { username: string } }>('/accounts/:username/delete', write, async (request, reply) => {
    const username = requireCanonicalUsername(request.params.username);
    if (username === request.consoleSession!.username)
      return done(request, reply, '/ui/accounts', 'You cannot remove the account you are signed in with.');
    await deleteConsoleAccount(consoleContext(face, request), username);
    sessions.endAll(username);
    return done(request, reply, '/ui/accounts', `Console account ${username} removed.`);
  });
}

async function accountsPage(
  request: FastifyRequest,
  reply: FastifyReply,
  face: UiFaceOptions,
  data: { errors?: FieldErrors; values?: Record<string, string> },
) {
  return page(request, reply, 'accounts', 'Console accounts', {
    accounts: await listConsoleAccounts(consoleContext(face, request)),
    ...data,
  });
}
