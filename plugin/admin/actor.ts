import type { FastifyRequest } from 'fastify';
import type { AdminContext } from '../../src/admin/index.ts';
import { callerActor } from '../shared/index.ts';
import type { AdminFaceOptions } from './options.ts';

/** The admin context for this request: every action is audited with the key that made it. */
export function adminContext(face: AdminFaceOptions, request: FastifyRequest): AdminContext {
  return face.adminContext(callerActor(request), request.ip);
}
