// The admin REST face: users, tokens, clients, admin keys, groups, settings, audit, cluster; each
// route declares the permission it needs and the caller's role is checked against it.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { TesseraError, wellFormedDeep } from '../../src/model/index.ts';
import { checkOptions, installErrorHandler, jsonBodiesOnly, requireCaller } from '../shared/index.ts';
import { adminKeyRoutes } from './admin-keys.ts';
import { auditRoutes } from './audit.ts';
import { clientRoutes } from './clients.ts';
import { clusterRoutes } from './cluster.ts';
import { directoryRoutes } from './directory.ts';
import { auditFailedChanges } from './failures.ts';
import { groupRoutes } from './groups.ts';
import { loggingRoutes } from './logging.ts';
import type { AdminFaceOptions } from './options.ts';
import { enforcePermissions } from './permissions.ts';
import { pushRoutes } from './push.ts';
import { reportRoutes } from './reports.ts';
import { selfServiceRoutes } from './self-service.ts';
import { settingsRoutes } from './settings.ts';
import { tokenRoutes } from './tokens.ts';
import { userImportRoutes } from './user-import.ts';
import { userRoutes } from './users.ts';

export type { AdminFaceOptions } from './options.ts';

async function adminFace(app: FastifyInstance, opts: AdminFaceOptions): Promise<void> {
  checkOptions('tessera-admin', opts, {
    store: 'the Store the admin views read',
    callers: 'the CallerDirectory that resolves admin keys',
    adminContext: 'a function (actor, sourceIp) returning the admin operations context',
    audit: 'the audit sink, flushed before the audit view is read',
    cluster: 'the cluster service that reports cluster status',
    logging: 'the logging runtime that applies the log level and audit output switches',
  });
  installErrorHandler(app);
  jsonBodiesOnly(app);
  app.addHook('onRequest', requireCaller(opts.callers, 'admin'));
  // JSON may carry lone surrogates (`"\ud800"`) that no UTF-8 URL, log or directory can hold.
  app.addHook('preValidation', async (request) => {
    if (!wellFormedDeep(request.body) || !wellFormedDeep(request.query))
      throw new TesseraError(
        'INVALID_UNICODE',
        'the request holds text that is not valid Unicode (a lone surrogate)',
      );
  });
  enforcePermissions(app, opts);
  auditFailedChanges(app, opts);
  for (const routes of [
    adminKeyRoutes,
    userRoutes,
    tokenRoutes,
    clientRoutes,
    groupRoutes,
    settingsRoutes,
    loggingRoutes,
    auditRoutes,
    reportRoutes,
    clusterRoutes,
    directoryRoutes,
    userImportRoutes,
    selfServiceRoutes,
    pushRoutes,
  ]) {
    await routes(app, opts);
  }
}

/** Register with prefix `/v1/admin`. Encapsulated: its admin-key hook guards only its routes. */
export const adminPlugin = fp(adminFace, { name: 'tessera-admin', fastify: '5.x', encapsulate: true });
