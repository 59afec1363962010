import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isPermission, type Permission, roleAllows } from '../../src/auth/index.ts';
import type { UiFaceOptions } from './options.ts';
import { notice } from './render.ts';
import { randomToken, type SessionStore, sameToken } from './session.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Who reaches a console route: `public` (the sign-in form, the stylesheet), `signing-in` (a
     * session between password and code), otherwise a signed-in session whose role grants
     * `permission`.
     */
    consoleAccess?: 'public' | 'signing-in' | 'session';
  }
}

export const SESSION_COOKIE = 'tessera_console';
/** The sign-in form's token before any session exists (double submit, SameSite=Strict). */
export const PRE_COOKIE = 'tessera_console_pre';

/** Thrown at registration: a console route that declares neither public access nor a permission. */
export class UndeclaredConsoleAccessError extends Error {
  constructor(method: string | string[], url: string) {
    super(`console route ${[method].flat().join(',')} ${url} declares no config.permission`);
    this.name = 'UndeclaredConsoleAccessError';
  }
}

export function cookieOptions(request: FastifyRequest, maxAgeSeconds?: number) {
  return {
    path: '/ui',
    httpOnly: true,
    sameSite: 'strict' as const,
    // Behind TLS (directly, or a proxy the node trusts) the cookie never travels in clear.
    secure: request.protocol === 'https',
    ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds } : {}),
  };
}

/** The sign-in form's token: the one in the cookie, or a new one set now. */
export function preToken(request: FastifyRequest, reply: FastifyReply): string {
  const existing = request.cookies[PRE_COOKIE];
  if (existing && /^[A-Za-z0-9_-]{32}$/.test(existing)) return existing;
  const token = randomToken();
  reply.setCookie(PRE_COOKIE, token, cookieOptions(request));
  return token;
}

function formToken(request: FastifyRequest): string | undefined {
  const body = request.body as Record<string, unknown> | undefined;
  const field = body && typeof body === 'object' ? body._csrf : undefined;
  if (typeof field === 'string') return field;
  const header = request.headers['x-csrf-token'];
  return typeof header === 'string' ? header : undefined;
}

function isWrite(request: FastifyRequest): boolean {
  return request.method !== 'GET' && request.method !== 'HEAD';
}

function toSignIn(request: FastifyRequest, reply: FastifyReply, query = ''): FastifyReply {
  const to = `/ui/signin${query}`;
  // htmx follows this header with a full page load instead of swapping a sign-in form into a table
  if (request.headers['hx-request']) return reply.header('HX-Redirect', to).code(401).send('');
  return reply.redirect(to, 303);
}

/**
 * One guard for every console route, on the server: the session (and its expiry), the form token
 * on every write, and the role's permission. Each refusal is a page that says what happened.
 */
export function guardConsole(app: FastifyInstance, face: UiFaceOptions, sessions: SessionStore): void {
  app.addHook('onRoute', (route) => {
    const access = route.config?.consoleAccess;
    if (access === undefined && !isPermission(route.config?.permission))
      throw new UndeclaredConsoleAccessError(route.method, route.url);
  });
  // Pages hold people's data and once-shown secrets: never kept by a browser or proxy cache.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('Cache-Control', 'no-store');
  });
  app.addHook('preHandler', async (request, reply) => {
    const config = request.routeOptions.config;
    if (config.consoleAccess === 'public') {
      if (isWrite(request) && !sameToken(formToken(request), request.cookies[PRE_COOKIE] ?? '-'))
        return stale(request, reply);
      return;
    }
    const lookup = sessions.get(request.cookies[SESSION_COOKIE]);
    if (!lookup) return toSignIn(request, reply);
    if ('expired' in lookup) {
      reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
      if (request.headers['hx-request']) return toSignIn(request, reply, '?expired=1');
      return notice(
        request,
        reply,
        401,
        'Session expired',
        'Your session has ended. Sign in again to go on.',
        {
          href: '/ui/signin',
          label: 'Sign in',
        },
      );
    }
    const session = lookup.session;
    const signingIn = config.consoleAccess === 'signing-in';
    if (signingIn ? session.stage === 'in' : session.stage !== 'in') return toSignIn(request, reply);
    request.consoleSession = session;
    if (isWrite(request) && !sameToken(formToken(request), session.csrf)) return stale(request, reply);
    if (signingIn || config.consoleAccess === 'session') return;
    const permission = config.permission as Permission;
    if (roleAllows(session.role, permission)) return;
    face.adminContext(`console:${session.username}`, request.ip).audit('admin.denied', {
      role: session.role,
      permission,
      route: `${request.method} ${request.routeOptions.url ?? ''}`,
    });
    return notice(
      request,
      reply,
      403,
      'Not open to your role',
      `Your role (${session.role}) may not do this: it needs the permission ${permission}.`,
    );
  });
}

function stale(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return notice(
    request,
    reply,
    403,
    'Form expired',
    'This form was sent without its current security token (it is stale, or came from another site). Nothing was changed. Open the page again and repeat the action.',
    { href: request.consoleSession ? '/ui/' : '/ui/signin', label: 'Start again' },
  );
}
