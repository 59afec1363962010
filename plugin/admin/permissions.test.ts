import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { describe, test } from 'vitest';
import type { AdminContext } from '../../src/admin/index.ts';
import type { AdminKey, AdminRole } from '../../src/model/index.ts';
import { installErrorHandler } from '../shared/index.ts';
import type { AdminFaceOptions } from './options.ts';
import { enforcePermissions, UndeclaredPermissionError } from './permissions.ts';

const audited: { type: string; detail: Record<string, string | undefined> }[] = [];
const face = {
  adminContext: () =>
    ({
      audit: (type: string, detail: Record<string, string | undefined>) => audited.push({ type, detail }),
    }) as unknown as AdminContext,
} as unknown as AdminFaceOptions;

function appAs(role: AdminRole, routes: (app: FastifyInstance) => void): FastifyInstance {
  const app = Fastify();
  app.register(async (scope) => {
    installErrorHandler(scope);
    scope.addHook('onRequest', async (request) => {
      const key: AdminKey = { id: 'k1', name: 'n', role, keyHash: 'h', createdAt: 0 };
      request.caller = { kind: 'admin', key };
    });
    enforcePermissions(scope, face);
    routes(scope);
  });
  return app;
}

describe('admin route permissions', () => {
  test('a route that declares no permission stops the face from booting', async () => {
    const app = appAs('superadmin', (scope) => {
      scope.get('/declared', { config: { permission: 'users:read' } }, async () => ({}));
      scope.get('/forgotten', async () => ({}));
    });
    await assert.rejects(
      async () => app.ready(),
      (err: unknown) => {
        assert.ok(err instanceof UndeclaredPermissionError);
        assert.match(err.message, /GET \/forgotten/);
        return true;
      },
    );
  });

  test('a permission name that does not exist is no declaration', async () => {
    const app = appAs('superadmin', (scope) => {
      scope.get('/typo', { config: { permission: 'user:read' as never } }, async () => ({}));
    });
    await assert.rejects(async () => app.ready(), UndeclaredPermissionError);
  });

  test('the role decides; a refusal is 403 ROLE_FORBIDDEN and is audited', async () => {
    const routes = (scope: FastifyInstance) => {
      scope.get('/users', { config: { permission: 'users:read' } }, async () => ({ ok: true }));
      scope.post('/settings', { config: { permission: 'settings:write' } }, async () => ({ ok: true }));
    };
    const auditor = appAs('auditor', routes);
    assert.equal((await auditor.inject({ method: 'GET', url: '/users' })).statusCode, 200);
    // HEAD, which Fastify adds for every GET, carries the same declaration.
    assert.equal((await auditor.inject({ method: 'HEAD', url: '/users' })).statusCode, 200);
    const refused = await auditor.inject({ method: 'POST', url: '/settings' });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().error.code, 'ROLE_FORBIDDEN');
    assert.deepEqual(audited.at(-1), {
      type: 'admin.denied',
      detail: { role: 'auditor', permission: 'settings:write', route: 'POST /settings' },
    });
    const root = appAs('superadmin', routes);
    assert.equal((await root.inject({ method: 'POST', url: '/settings' })).statusCode, 200);
    await Promise.all([auditor.close(), root.close()]);
  });
});
