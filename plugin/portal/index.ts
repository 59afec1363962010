// The self-service portal at /portal/: invitation links, sign-in with a second factor, a user's
// devices (rename, default, resync, replace) and recovery codes. Server-rendered forms under a
// strict CSP, CSRF tokens on every form, cookies HttpOnly and SameSite=Strict.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { TesseraError } from '../../src/model/index.ts';
import { checkOptions } from '../shared/index.ts';
import type { PortalFaceOptions } from './options.ts';
import { sendPage } from './pages.ts';
import { accountRoutes } from './routes-account.ts';
import { enrolRoutes } from './routes-enrol.ts';
import { onlineRoutes } from './routes-online.ts';
import { portalState } from './state.ts';

export type { PortalFaceOptions } from './options.ts';

const FORM = Type.Object({}, { additionalProperties: Type.String({ maxLength: 1024 }) });

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'static');
const ASSETS: Record<string, { type: string; body: string }> = {
  'portal.css': {
    type: 'text/css; charset=utf-8',
    body: readFileSync(join(STATIC_DIR, 'portal.css'), 'utf8'),
  },
  'portal.js': {
    type: 'text/javascript; charset=utf-8',
    body: readFileSync(join(STATIC_DIR, 'portal.js'), 'utf8'),
  },
};

async function portalFace(app: FastifyInstance, opts: PortalFaceOptions): Promise<void> {
  checkOptions('tessera-portal', opts, {
    selfService: 'a function (actor, sourceIp) returning the self-service context',
    validator: 'the Validator portal sign-ins go through',
    secureCookies: 'whether cookies are sent over https only',
  });
  // Pages for people, not API operations: kept out of the OpenAPI document (and so out of the fuzz).
  // Every form field is a string of bounded length: anything else is a 400, never a handler's 500.
  app.addHook('onRoute', (route) => {
    const post = route.method === 'POST' || (Array.isArray(route.method) && route.method.includes('POST'));
    route.schema = {
      ...(route.schema ?? {}),
      hide: true,
      ...(post && !route.schema?.body ? { body: FORM } : {}),
    };
  });
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    hsts: opts.secureCookies,
  });
  await app.register(cookie);
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'tessera_csrf',
    cookieOpts: { path: '/portal', httpOnly: true, sameSite: 'strict', secure: opts.secureCookies },
    getToken: (request) => (request.body as Record<string, string> | undefined)?._csrf,
  });
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  const portal = portalState(app, opts);

  app.setNotFoundHandler(async (request, reply) =>
    portal.page(
      request,
      reply,
      'message',
      {
        title: 'Page not found',
        text: 'There is no such page.',
        link: { href: '/portal/', text: 'Go to the portal' },
      },
      404,
    ),
  );
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const csrfRefused = error.code?.startsWith('FST_CSRF');
    const status = csrfRefused
      ? 403
      : error instanceof TesseraError
        ? error.status
        : (error.statusCode ?? 500);
    if (status >= 500) request.log.error({ err: error }, 'portal request failed');
    const text = csrfRefused
      ? 'This form has expired or did not come from this site. Go back to the portal and try again.'
      : status === 503
        ? 'The service is unavailable; try again later.'
        : status >= 500
          ? 'Something went wrong on our side; try again later.'
          : 'The request could not be handled.';
    // no CSRF token or session lookups here: the error may be about either
    return sendPage(
      reply,
      'message',
      {
        title: 'Request refused',
        issuer: 'Tessera',
        text,
        link: { href: '/portal/', text: 'Go to the portal' },
      },
      status,
    );
  });

  app.get<{ Params: { file: string } }>('/static/:file', async (request, reply) => {
    const asset = ASSETS[request.params.file];
    if (!asset) return reply.callNotFound();
    return reply.type(asset.type).header('cache-control', 'public, max-age=3600').send(asset.body);
  });
  await accountRoutes(app, portal);
  await enrolRoutes(app, portal);
  await onlineRoutes(app, portal);
}

/** Register with prefix `/portal`. Encapsulated: its form parser, cookies, CSP and CSRF stay inside. */
export const portalPlugin = fp(portalFace, { name: 'tessera-portal', fastify: '5.x', encapsulate: true });
