import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SignInRefusal } from '../../../src/console/index.ts';
import { base32Encode } from '../../../src/otp/index.ts';
import { qrSvg } from '../../shared/index.ts';
import { echo, parseForm } from '../forms.ts';
import { cookieOptions, PRE_COOKIE, preToken, SESSION_COOKIE } from '../guard.ts';
import type { UiFaceOptions } from '../options.ts';
import { page } from '../render.ts';
import type { SessionStore } from '../session.ts';

const SignInForm = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 256, message: 'Enter your username.' }),
    password: Type.String({ minLength: 1, maxLength: 256, message: 'Enter your password.' }),
  },
  { additionalProperties: false },
);
const CodeForm = Type.Object(
  {
    code: Type.String({ pattern: '^[0-9]{6}$', message: 'Enter the 6-digit code from your authenticator.' }),
  },
  { additionalProperties: false },
);

/** What a person is told: never which of username and password was wrong. */
const REFUSAL: Record<SignInRefusal, string> = {
  WRONG_CREDENTIALS: 'The username, password or code is not right.',
  LOCKED: 'Too many failed attempts: this account is locked for a while. Try again later.',
  THROTTLED: 'Too many attempts in a short time. Wait a minute and try again.',
  DISABLED: 'This console account is disabled.',
  UNAVAILABLE: 'The directory that checks this password cannot be reached. Try again later.',
  BUSY: 'The server is busy. Try again in a moment.',
};

export async function signInRoutes(app: FastifyInstance, face: UiFaceOptions, sessions: SessionStore) {
  const publicRoute = { config: { consoleAccess: 'public' as const } };
  const signingIn = { config: { consoleAccess: 'signing-in' as const } };

  const signInPage = (request: FastifyRequest, reply: FastifyReply, data: Record<string, unknown> = {}) =>
    page(request, reply, 'signin', 'Sign in', { preCsrf: preToken(request, reply), ...data });

  app.get<{ Querystring: { expired?: string } }>('/signin', publicRoute, async (request, reply) => {
    const lookup = sessions.get(request.cookies[SESSION_COOKIE]);
    if (lookup && 'session' in lookup && lookup.session.stage === 'in') return reply.redirect('/ui/', 303);
    return signInPage(request, reply, {
      ...(request.query.expired ? { info: 'Your session has ended. Sign in again to go on.' } : {}),
    });
  });

  app.post('/signin', publicRoute, async (request, reply) => {
    const form = parseForm(SignInForm, request.body);
    if (!form.ok)
      return signInPage(request, reply.code(400), {
        errors: form.errors,
        values: echo(request.body, ['password']),
      });
    const { username, password } = form.value;
    const step = await face.signIn.password(username, password, request.ip);
    if (!step.ok)
      return signInPage(request, reply.code(401), {
        failure: REFUSAL[step.reason],
        values: echo(request.body, ['password']),
      });
    const enrolled = step.account.totpSealed !== undefined;
    const session = sessions.create(step.account.username, step.account.role, enrolled ? 'code' : 'enrol');
    if (!enrolled) session.pendingSecret = face.signIn.newSecret();
    reply.clearCookie(PRE_COOKIE, cookieOptions(request));
    reply.setCookie(SESSION_COOKIE, session.id, cookieOptions(request));
    return reply.redirect(enrolled ? '/ui/signin/code' : '/ui/signin/enrol', 303);
  });

  app.get('/signin/code', signingIn, async (request, reply) => {
    const s = request.consoleSession!;
    if (s.stage !== 'code') return reply.redirect('/ui/signin/enrol', 303);
    return page(request, reply, 'signin-code', 'Enter your code', { username: s.username });
  });

  app.post('/signin/code', signingIn, async (request, reply) => {
    const s = request.consoleSession!;
    if (s.stage !== 'code') return reply.redirect('/ui/signin/enrol', 303);
    const form = parseForm(CodeForm, request.body);
    if (!form.ok)
      return page(request, reply.code(400), 'signin-code', 'Enter your code', {
        username: s.username,
        errors: form.errors,
      });
    const step = await face.signIn.code(s.username, form.value.code, request.ip);
    if (!step.ok) {
      if (step.reason === 'LOCKED' || step.reason === 'DISABLED') sessions.end(s.id);
      return page(request, reply.code(401), 'signin-code', 'Enter your code', {
        username: s.username,
        failure: REFUSAL[step.reason],
      });
    }
    return signedIn(request, reply, sessions, step.account.role);
  });

  app.get('/signin/enrol', signingIn, async (request, reply) => enrolPage(request, reply, face));

  app.post('/signin/enrol', signingIn, async (request, reply) => {
    const s = request.consoleSession!;
    if (s.stage !== 'enrol' || !s.pendingSecret) return reply.redirect('/ui/signin/code', 303);
    const form = parseForm(CodeForm, request.body);
    if (!form.ok) return enrolPage(request, reply.code(400), face, { errors: form.errors });
    const step = await face.signIn.confirmEnrolment(s.username, s.pendingSecret, form.value.code, request.ip);
    if (!step.ok) return enrolPage(request, reply.code(401), face, { failure: REFUSAL[step.reason] });
    return signedIn(request, reply, sessions, step.account.role);
  });

  app.post('/signout', { config: { consoleAccess: 'session' } }, async (request, reply) => {
    const s = request.consoleSession!;
    sessions.end(s.id);
    face.adminContext(`console:${s.username}`, request.ip).audit('console.signout', { account: s.username });
    reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
    return reply.redirect('/ui/signin', 303);
  });
}

async function enrolPage(
  request: FastifyRequest,
  reply: FastifyReply,
  face: UiFaceOptions,
  data: Record<string, unknown> = {},
): Promise<FastifyReply> {
  const s = request.consoleSession!;
  if (s.stage !== 'enrol' || !s.pendingSecret) return reply.redirect('/ui/signin/code', 303);
  const uri = await face.signIn.enrolmentUri(s.username, s.pendingSecret);
  return page(request, reply, 'signin-enrol', 'Set up your second factor', {
    username: s.username,
    qr: await qrSvg(uri, 'QR code to add this console account to an authenticator app', {
      className: 'qr',
    }),
    secret: base32Encode(s.pendingSecret),
    uri,
    ...data,
  });
}

function signedIn(
  request: FastifyRequest,
  reply: FastifyReply,
  sessions: SessionStore,
  role: 'superadmin' | 'helpdesk' | 'auditor',
): FastifyReply {
  const next = sessions.promote({ ...request.consoleSession!, role }, 'in');
  reply.setCookie(SESSION_COOKIE, next.id, cookieOptions(request));
  return reply.redirect('/ui/', 303);
}
