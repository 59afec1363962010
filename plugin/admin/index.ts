// The admin REST face: users, tokens, clients, groups, settings, audit, cluster.
import type { FastifyInstance } from 'fastify';
import { TesseraError, wellFormedDeep } from '../../src/model/index.ts';
import { requireCaller } from '../../src/server/caller-auth.ts';
import { auditRoutes } from './audit.ts';
import { clientRoutes } from './clients.ts';
import { clusterRoutes } from './cluster.ts';
import { groupRoutes } from './groups.ts';
import { settingsRoutes } from './settings.ts';
import { tokenRoutes } from './tokens.ts';
import { userRoutes } from './users.ts';

export async function adminPlugin(app: FastifyInstance): Promise<void> {
  app.addHook('onRequest', requireCaller(app.tessera.callers, 'admin'));
  // JSON may carry lone surrogates (`"\ud800"`) that no UTF-8 URL, log or directory can hold.
  app.addHook('preValidation', async (request) => {
    if (!wellFormedDeep(request.body) || !wellFormedDeep(request.query))
      throw new TesseraError(
        'INVALID_UNICODE',
        'the request holds text that is not valid Unicode (a lone surrogate)',
      );
  });
  await app.register(userRoutes);
  await app.register(tokenRoutes);
  await app.register(clientRoutes);
  await app.register(groupRoutes);
  await app.register(settingsRoutes);
  await app.register(auditRoutes);
  await app.register(clusterRoutes);
}
