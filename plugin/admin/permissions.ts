import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isPermission, type Permission, roleAllows } from '../../src/auth/index.ts';
import { TesseraError } from '../../src/model/index.ts';
import { callerActor } from '../shared/index.ts';
import type { AdminFaceOptions } from './options.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What an admin route needs of the caller's role (src/auth/roles.ts). */
    permission?: Permission;
  }
}

/** Thrown at registration: the admin face refuses to boot with a route that declares no permission. */
export class UndeclaredPermissionError extends Error {
  constructor(method: string | string[], url: string) {
    super(`admin route ${[method].flat().join(',')} ${url} declares no config.permission`);
    this.name = 'UndeclaredPermissionError';
  }
}

/**
 * Every admin route says what it needs (`config: { permission: 'users:write' }`) and one hook
 * checks it against the caller's role after the key is authenticated. A route without a declared
 * permission stops the registration, so none is open to every role by omission. A refusal is a 403
 * `ROLE_FORBIDDEN` and is audited with the key and its role.
 */
export function enforcePermissions(app: FastifyInstance, face: AdminFaceOptions): void {
  app.addHook('onRoute', (route) => {
    if (!isPermission(route.config?.permission)) throw new UndeclaredPermissionError(route.method, route.url);
  });
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const permission = request.routeOptions.config.permission;
    const caller = request.caller;
    if (caller?.kind !== 'admin' || !isPermission(permission)) {
      throw new TesseraError('ROLE_FORBIDDEN', 'this call is not open to any admin role');
    }
    if (roleAllows(caller.key.role, permission)) return;
    face.adminContext(callerActor(request), request.ip).audit('admin.denied', {
      role: caller.key.role,
      permission,
      route: `${request.method} ${request.routeOptions.url ?? ''}`,
    });
    throw new TesseraError(
      'ROLE_FORBIDDEN',
      `an admin key of role ${caller.key.role} may not do this (needs ${permission})`,
    );
  });
}
