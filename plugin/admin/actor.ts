import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AdminContext } from '../../src/admin/index.ts';
import { callerActor } from '../../src/server/caller-auth.ts';

/** The admin context for this request: every action is audited with the key that made it. */
export function adminContext(app: FastifyInstance, request: FastifyRequest): AdminContext {
  return app.tessera.admin(callerActor(request), request.ip);
}
