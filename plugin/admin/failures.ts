import type { FastifyError, FastifyInstance } from 'fastify';
import { TesseraError } from '../../src/model/index.ts';
import { adminContext } from './actor.ts';
import type { AdminFaceOptions } from './options.ts';

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A change an admin key asked for and did not get (a 400, 404, 409...) is in the admin trail too,
 * with `result: error` and the error code: an attempt is part of who-changed-what. A role refusal
 * is recorded already (admin.denied); a call without a valid key has no actor to name.
 */
export function auditFailedChanges(app: FastifyInstance, face: AdminFaceOptions): void {
  app.addHook('onError', async (request, _reply, error: FastifyError) => {
    if (request.caller?.kind !== 'admin' || !CHANGES.has(request.method)) return;
    const code = error instanceof TesseraError ? error.code : error.validation ? 'BAD_REQUEST' : 'INTERNAL';
    if (code === 'ROLE_FORBIDDEN') return;
    adminContext(face, request).audit('admin.failed', {
      route: `${request.method} ${request.routeOptions.url ?? ''}`,
      result: 'error',
      reason: code,
    });
  });
}
