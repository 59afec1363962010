import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { describe, test } from 'vitest';
import { adminPlugin } from '../admin/index.ts';
import { clusterPlugin } from '../cluster/index.ts';
import { opsPlugin } from '../ops/index.ts';
import { radiusPlugin } from '../radius/index.ts';
import { validatePlugin } from '../validate/index.ts';
import { checkOptions, PluginOptionError } from './options.ts';

describe('a face without a service it needs does not boot', () => {
  const faces = [
    ['tessera-validate', validatePlugin, ['validator', 'callers']],
    ['tessera-radius', radiusPlugin, ['validator', 'callers', 'audit']],
    ['tessera-admin', adminPlugin, ['store', 'callers', 'adminContext', 'audit', 'cluster', 'logging']],
    ['tessera-cluster', clusterPlugin, ['callers', 'snapshots']],
    ['tessera-ops', opsPlugin, ['store', 'registry']],
  ] as const;

  for (const [name, plugin, required] of faces) {
    test(`${name} names itself and every missing option`, async () => {
      const app = Fastify();
      // biome-ignore lint/suspicious/noExplicitAny: deliberately registered without its options
      app.register(plugin as any, {});
      const err = await app.ready().then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(err instanceof PluginOptionError, `expected a PluginOptionError, got ${String(err)}`);
      assert.match(err.message, new RegExp(`^${name}: missing option`));
      for (const option of required) assert.ok(err.message.includes(`"${option}"`), err.message);
      await app.close();
    });
  }

  test('a validate face missing only its caller directory says just that', async () => {
    const app = Fastify();
    app.register(validatePlugin, {
      validator: { validate: async () => ({ result: 'reject', reason: 'OTP_INVALID' }) },
    } as never);
    await assert.rejects(
      async () => app.ready(),
      (e: Error) => {
        assert.equal(
          e.message,
          'tessera-validate: missing option "callers" (the CallerDirectory that resolves client keys)',
        );
        return true;
      },
    );
    await app.close();
  });

  test('null counts as missing; present options pass', () => {
    assert.throws(() => checkOptions('p', { a: null }, { a: 'the a' }), /p: missing option "a" \(the a\)/);
    assert.doesNotThrow(() => checkOptions('p', { a: 0 }, { a: 'the a' }));
  });
});
