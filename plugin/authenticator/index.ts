// The authenticator app (an installable PWA) at /authenticator/: static files only. It pairs with
// the device API (plugin/device), signs every request with a key the browser never lets out, shows
// push requests and makes TOTP codes offline. Nothing here reads the store: the app is a client.
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import helmet from '@fastify/helmet';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';

const STATIC_DIR = join(import.meta.dirname, 'static');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.webmanifest': 'application/manifest+json',
};

interface Asset {
  type: string;
  body: Buffer;
}

/** Every file of the app, read once at registration: the app is small and never changes at run time. */
function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(STATIC_DIR)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { type, body: readFileSync(join(STATIC_DIR, name)) });
  }
  return assets;
}

/** No inline script or style, no other origin: the app's key is only as safe as the page's code. */
const CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    connectSrc: ["'self'"],
    manifestSrc: ["'self'"],
    workerSrc: ["'self'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
};

async function authenticatorFace(app: FastifyInstance): Promise<void> {
  const assets = loadAssets();
  // Pages for people, not API operations: kept out of the OpenAPI document (and so out of the fuzz).
  app.addHook('onRoute', (route) => {
    route.schema = { ...(route.schema ?? {}), hide: true };
  });
  await app.register(helmet, {
    contentSecurityPolicy: CSP,
    referrerPolicy: { policy: 'no-referrer' },
    hsts: false,
  });
  const send = (reply: FastifyReply, name: string) => {
    const asset = assets.get(name);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    // The shell and the service worker are revalidated on every load, so a new version reaches
    // installed apps; the service worker keeps its own copy for offline use.
    const revalidate = name === 'index.html' || name === 'sw.js';
    return reply
      .type(asset.type)
      .header('cache-control', revalidate ? 'no-cache' : 'public, max-age=300')
      .send(asset.body);
  };
  app.get('/', (_request, reply) => send(reply, 'index.html'));
  app.get<{ Params: { file: string } }>('/:file', (request, reply) => send(reply, request.params.file));
}

/** Register with prefix `/authenticator`. Encapsulated: its CSP stays inside. */
export const authenticatorPlugin = fp(authenticatorFace, {
  name: 'tessera-authenticator',
  fastify: '5.x',
  encapsulate: true,
});
