import type { SwaggerOptions } from '@fastify/swagger';
import { SECURITY_SCHEMES } from '../../plugin/shared/index.ts';

/**
 * The OpenAPI document's frame. Each route states its own security (admin key, client key or none),
 * its answers per status and its links; the fuzz test (test/integration/openapi-fuzz.test.ts) holds
 * the server to the document, so a route without them is a failing test, not a gap in the docs.
 */
export function openapiOptions(version: string): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Tessera',
        version,
        description:
          'Second-factor (OTP) backend. Any 4xx/5xx JSON answer is {"error": {"code", "message"}}. ' +
          'A JSON body holding a "__proto__" key, or a "constructor" key whose object holds "prototype", ' +
          'is refused at any depth with 400 BAD_REQUEST (prototype poisoning), whatever its schema says.',
      },
      components: { securitySchemes: { ...SECURITY_SCHEMES } },
      tags: [
        { name: 'validate', description: 'one-time code checks for Keycloak and any HTTP caller' },
        { name: 'radius', description: 'FreeRADIUS rlm_rest (body = json)' },
        { name: 'users' },
        { name: 'tokens' },
        { name: 'clients', description: 'relying systems and their API keys' },
        { name: 'admin keys' },
        { name: 'groups' },
        { name: 'settings' },
        { name: 'audit' },
        { name: 'cluster' },
        { name: 'operations', description: 'health, readiness and metrics; no key' },
      ],
    },
  };
}
