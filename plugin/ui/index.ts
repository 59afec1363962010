// The admin console: server-rendered pages (Eta) for superadmins, helpdesk and auditors, signed
// in with a console account and a TOTP code Tessera checks itself. It calls the same operations
// as the admin API (src/admin), never the API over the network.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import view from '@fastify/view';
import { Eta } from 'eta';
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { TesseraError } from '../../src/model/index.ts';
import { checkOptions } from '../shared/index.ts';
import { guardConsole } from './guard.ts';
import type { UiFaceOptions } from './options.ts';
import { notice } from './render.ts';
import { accountRoutes } from './routes/accounts.ts';
import { clientRoutes } from './routes/clients.ts';
import { clusterRoutes } from './routes/cluster.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { groupRoutes } from './routes/groups.ts';
import { logRoutes } from './routes/logs.ts';
import { settingsRoutes } from './routes/settings.ts';
import { signInRoutes } from './routes/signin.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { userRoutes } from './routes/users.ts';
import { yubikeyRoutes } from './routes/yubikey.ts';
import { SessionStore } from './session.ts';

export type { UiFaceOptions } from './options.ts';

const HERE = import.meta.dirname;
const HTMX_DIR = dirname(createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js'));

/** script-src 'self': the only script is our own copy of htmx; no inline script or style anywhere. */
const CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
  },
};

async function uiFace(app: FastifyInstance, opts: UiFaceOptions): Promise<void> {
  checkOptions('tessera-ui', opts, {
    store: 'the Store the console pages read',
    adminContext: 'a function (actor, sourceIp) returning the admin operations context',
    signIn: 'the ConsoleSignIn that checks console passwords and codes',
    audit: 'the audit sink, flushed before the logs are read',
    cluster: 'the cluster service that reports cluster status',
  });
  // Pages for people, not API operations: kept out of the OpenAPI document (and so out of the fuzz).
  app.addHook('onRoute', (route) => {
    route.schema = { ...(route.schema ?? {}), hide: true };
  });
  const sessions = new SessionStore(opts.idleTimeoutMs ?? 15 * 60_000, opts.maxSessionMs ?? 8 * 3600_000);
  await app.register(cookie);
  await app.register(formbody);
  await app.register(helmet, {
    contentSecurityPolicy: CSP,
    // the console is reached on loopback in plain HTTP too; TLS is the operator's proxy's business
    hsts: false,
    referrerPolicy: { policy: 'same-origin' },
  });
  await app.register(view, {
    engine: { eta: new Eta({ views: join(HERE, 'templates'), cache: true }) },
    templates: join(HERE, 'templates'),
    production: true,
  });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof TesseraError && err.status < 500)
      return notice(request, reply, err.status, 'Not done', err.message);
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500)
      return notice(
        request,
        reply,
        err.statusCode,
        'Not understood',
        'The request was not understood; nothing was changed.',
      );
    request.log.error({ err }, 'console request failed');
    return notice(
      request,
      reply,
      500,
      'Something went wrong',
      'The page could not be produced; the node log has the details.',
    );
  });
  app.setNotFoundHandler((request, reply) =>
    notice(request, reply, 404, 'Not found', 'There is no such page or record in the console.'),
  );
  // Assets need no session: a sibling scope without the guard.
  await app.register(async (assets) => {
    await assets.register(fastifyStatic, {
      root: join(HERE, 'static'),
      prefix: '/static/',
      decorateReply: false,
      index: false,
    });
    await assets.register(fastifyStatic, {
      root: HTMX_DIR,
      prefix: '/static/htmx/',
      decorateReply: false,
      index: false,
      allowedPath: (path) => path === '/htmx.min.js',
    });
  });
  await app.register(async (pages) => {
    guardConsole(pages, opts, sessions);
    await signInRoutes(pages, opts, sessions);
    for (const routes of [
      dashboardRoutes,
      userRoutes,
      tokenRoutes,
      yubikeyRoutes,
      groupRoutes,
      clientRoutes,
      settingsRoutes,
      clusterRoutes,
      logRoutes,
    ])
      await routes(pages, opts);
    await accountRoutes(pages, opts, sessions);
  });
}

/** Register with prefix `/ui`. Encapsulated: its cookies, CSP and form parser stay in the console. */
export const uiPlugin = fp(uiFace, { name: 'tessera-ui', fastify: '5.x', encapsulate: true });
