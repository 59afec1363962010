import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { adminPlugin } from '../../plugin/admin/index.ts';
import { clusterPlugin } from '../../plugin/cluster/index.ts';
import { radiusPlugin } from '../../plugin/radius/index.ts';
import { validatePlugin } from '../../plugin/validate/index.ts';
import type { Config } from './config.ts';
import { installErrorHandling } from './errors.ts';
import { opsRoutes } from './ops-routes.ts';
import type { TesseraServices } from './services.ts';

declare module 'fastify' {
  interface FastifyInstance {
    tessera: TesseraServices;
  }
}

export function fastifyOptions(config: Config): FastifyServerOptions {
  return {
    trustProxy: config.trustProxy,
    bodyLimit: 64 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  };
}

/** Builds the node's HTTP app around already-created services. */
export async function buildApp(
  services: TesseraServices,
  logger: Logger,
  opts: FastifyServerOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    ...fastifyOptions(services.config),
    loggerInstance: logger,
    ...opts,
  }) as unknown as FastifyInstance;
  app.decorate('tessera', services);
  installErrorHandling(app);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Tessera', version: '0.1.0', description: 'Second-factor (OTP) backend' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(opsRoutes);
  await app.register(validatePlugin, { prefix: '/v1' });
  await app.register(adminPlugin, { prefix: '/v1/admin' });
  await app.register(radiusPlugin, { prefix: '/radius' });
  await app.register(clusterPlugin);
  app.addHook('onClose', async () => services.close());
  return app;
}
