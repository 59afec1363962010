// The admin REST face: users, tokens, clients, groups, settings, audit, cluster.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { checkOptions, installErrorHandler, requireCaller } from '../shared/index.ts';
import { auditRoutes } from './audit.ts';
import { clientRoutes } from './clients.ts';
import { clusterRoutes } from './cluster.ts';
import { groupRoutes } from './groups.ts';
import type { AdminFaceOptions } from './options.ts';
import { settingsRoutes } from './settings.ts';
import { tokenRoutes } from './tokens.ts';
import { userRoutes } from './users.ts';

export type { AdminFaceOptions } from './options.ts';

async function adminFace(app: FastifyInstance, opts: AdminFaceOptions): Promise<void> {
  checkOptions('tessera-admin', opts, {
    store: 'the Store the admin views read',
    callers: 'the CallerDirectory that resolves admin keys',
    adminContext: 'a function (actor, sourceIp) returning the admin operations context',
    audit: 'the audit sink, flushed before the audit view is read',
    cluster: 'the cluster service that reports cluster status',
  });
  installErrorHandler(app);
  app.addHook('onRequest', requireCaller(opts.callers, 'admin'));
  for (const routes of [
    userRoutes,
    tokenRoutes,
    clientRoutes,
    groupRoutes,
    settingsRoutes,
    auditRoutes,
    clusterRoutes,
  ]) {
    await routes(app, opts);
  }
}

/** Register with prefix `/v1/admin`. Encapsulated: its admin-key hook guards only its routes. */
export const adminPlugin = fp(adminFace, { name: 'tessera-admin', fastify: '5.x', encapsulate: true });
