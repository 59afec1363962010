import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { adminPlugin } from '../../plugin/admin/index.ts';
import { ROUTER_MAX_PARAM_LENGTH } from '../../plugin/admin/schemas.ts';
import { authenticatorPlugin } from '../../plugin/authenticator/index.ts';
import { clusterPlugin } from '../../plugin/cluster/index.ts';
import { devicePlugin } from '../../plugin/device/index.ts';
import { opsPlugin } from '../../plugin/ops/index.ts';
import { portalPlugin } from '../../plugin/portal/index.ts';
import { radiusPlugin } from '../../plugin/radius/index.ts';
import {
  clientErrorHandler,
  frameworkErrors,
  installErrorHandling,
  jsonBodiesOnly,
} from '../../plugin/shared/index.ts';
import { uiPlugin } from '../../plugin/ui/index.ts';
import { validatePlugin } from '../../plugin/validate/index.ts';
import { ConsoleSignIn } from '../console/index.ts';
import { vapidKeys } from '../push/index.ts';
import { VERSION } from '../version.ts';
import type { Config } from './config.ts';
import { openapiOptions } from './openapi.ts';
import type { TesseraServices } from './services.ts';

export function fastifyOptions(config: Config): FastifyServerOptions {
  return {
    // Only the listed proxies may say where a request came from; nobody when none are listed.
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: ROUTER_MAX_PARAM_LENGTH },
    frameworkErrors,
    clientErrorHandler,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  };
}

/**
 * Builds the node's HTTP app around already-created services: each face in plugin/ gets the
 * services it needs as options. The services start when the app is ready and close with it.
 */
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
  const { store, validator, callers, audit, metrics, cluster } = services;
  installErrorHandling(app);
  jsonBodiesOnly(app);
  // Response schemas document the answers (and the fuzz test checks them); they do not shape them:
  // fast-json-stringify would drop undeclared fields and coerce wrong types, hiding the very
  // mismatches the check is there to find. The faces send public views built in src/admin.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(swagger, openapiOptions(VERSION));
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(opsPlugin, {
    store,
    registry: metrics.registry,
    readiness: () => services.readiness(),
  });
  await app.register(validatePlugin, { prefix: '/v1', validator, callers });
  await app.register(adminPlugin, {
    prefix: '/v1/admin',
    store,
    callers,
    audit,
    cluster,
    logging: services.logging,
    adminContext: (actor, sourceIp) => services.admin(actor, sourceIp),
    selfService: (actor, sourceIp) => services.selfService(actor, sourceIp),
  });
  await app.register(radiusPlugin, {
    prefix: '/radius',
    validator,
    callers,
    audit,
    pushHold: (transactionId, maxMs) => services.push.holdFor(transactionId, maxMs),
  });
  await app.register(clusterPlugin, { prefix: '/v1/cluster', callers, snapshots: cluster });
  const adminContext = (actor: string, sourceIp?: string) => services.admin(actor, sourceIp);
  await app.register(uiPlugin, {
    prefix: '/ui',
    store,
    audit,
    cluster,
    adminContext,
    selfService: (actor, sourceIp) => services.selfService(actor, sourceIp),
    signIn: new ConsoleSignIn({ adminContext, directory: services.directoryPasswords }),
  });
  await app.register(portalPlugin, {
    prefix: '/portal',
    selfService: (actor, sourceIp) => services.selfService(actor, sourceIp),
    validator,
    secureCookies: services.config.portal.url.startsWith('https:'),
  });
  await app.register(devicePlugin, {
    prefix: '/v1/device',
    store,
    push: services.push,
    settings: () => services.settings.get(),
    adminContext,
    vapidPublicKey: () => vapidKeys(services.keyring).publicKey,
    webPushHosts: services.config.webPushHosts,
  });
  await app.register(authenticatorPlugin, { prefix: '/authenticator' });
  app.addHook('onReady', async () => services.start());
  app.addHook('onClose', async () => services.close());
  return app;
}
