// The admin REST face: users, tokens, clients, groups, settings, audit, cluster.
import type { FastifyInstance } from 'fastify';
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
  await app.register(userRoutes);
  await app.register(tokenRoutes);
  await app.register(clientRoutes);
  await app.register(groupRoutes);
  await app.register(settingsRoutes);
  await app.register(auditRoutes);
  await app.register(clusterRoutes);
}
