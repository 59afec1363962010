import type { FastifyRequest } from 'fastify';
import type { AdminContext } from '../../src/admin/index.ts';
import { callerActor } from '../shared/index.ts';
import type { AdminFaceOptions } from './options.ts';

/** The admin context for this request: every action is audited with the key that made it and its role. */
export function adminContext(face: AdminFaceOptions, request: FastifyRequest): AdminContext {
  const ctx = face.adminContext(callerActor(request), request.ip);
  const role = request.caller?.kind === 'admin' ? request.caller.key.role : undefined;
  if (!role) return ctx;
  return { ...ctx, audit: (type, detail) => ctx.audit(type, { ...detail, role }) };
}
