import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Permission, roleAllows } from '../../src/auth/index.ts';
import type { ConsoleSession } from './session.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in console session (set by the guard on every page but the sign-in ones). */
    consoleSession?: ConsoleSession;
  }
}

/** The console's pages in the navigation, each shown only to the roles that may open it. */
export const NAV: { href: string; label: string; permission: Permission }[] = [
  { href: '/ui/', label: 'Dashboard', permission: 'cluster:read' },
  { href: '/ui/users', label: 'Users', permission: 'users:read' },
  { href: '/ui/groups', label: 'Groups', permission: 'groups:read' },
  { href: '/ui/clients', label: 'Clients', permission: 'clients:read' },
  { href: '/ui/settings', label: 'Settings', permission: 'settings:read' },
  { href: '/ui/directory', label: 'Directory', permission: 'directory:read' },
  { href: '/ui/cluster', label: 'Cluster', permission: 'cluster:read' },
  { href: '/ui/logs', label: 'Logs', permission: 'audit:read' },
  { href: '/ui/accounts', label: 'Console accounts', permission: 'admin-keys:read' },
];

export function may(request: FastifyRequest, permission: Permission): boolean {
  const s = request.consoleSession;
  return s?.stage === 'in' && roleAllows(s.role, permission);
}

/**
 * Renders a page inside the layout with what every page needs: who is signed in, the form
 * token, the navigation for the role, and a message or once-shown secret left by the last action.
 */
export function page(
  request: FastifyRequest,
  reply: FastifyReply,
  template: string,
  title: string,
  data: Record<string, unknown> = {},
): FastifyReply {
  const s = request.consoleSession;
  const flash = s?.flash;
  const reveal = s?.reveal;
  if (s) {
    delete s.flash;
    delete s.reveal;
  }
  const path = request.url.split('?')[0];
  return reply.type('text/html; charset=utf-8').view(template, {
    title,
    account: s?.stage === 'in' ? { username: s.username, role: s.role } : null,
    csrf: s?.csrf ?? '',
    nav: s?.stage === 'in' ? NAV.filter((n) => roleAllows(s.role, n.permission)) : [],
    current: path,
    flash,
    reveal,
    may: (p: Permission) => may(request, p),
    ...data,
  });
}

/** A short page that says what happened and where to go (an error, a refusal, an expiry). */
export function notice(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  title: string,
  message: string,
  link: { href: string; label: string } = { href: '/ui/', label: 'Back to the dashboard' },
): FastifyReply {
  reply.code(status);
  return page(request, reply, 'notice', title, { message, link });
}

/** After an action: a message for the next page, then the page (POST-redirect-GET). */
export function done(
  request: FastifyRequest,
  reply: FastifyReply,
  to: string,
  message: string,
): FastifyReply {
  if (request.consoleSession) request.consoleSession.flash = message;
  return reply.redirect(to, 303);
}
