import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { FastifyReply } from 'fastify';

const eta = new Eta({
  views: join(dirname(fileURLToPath(import.meta.url)), 'views'),
  autoEscape: true,
  cache: true,
});

export interface PageData {
  title: string;
  issuer: string;
  csrf?: string;
  signedIn?: string;
  notice?: string;
  error?: string;
  [k: string]: unknown;
}

/** Sends a server-rendered page; pages are never cached (they show codes, secrets and state). */
export function sendPage(reply: FastifyReply, view: string, data: PageData, status = 200): FastifyReply {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(eta.render(view, data));
}
