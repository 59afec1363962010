// Per-request logging of the login routes (validate, RADIUS).
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

const DEBUG = 20;
const WARN = 40;

/**
 * Route options for a login route. At the usual levels (info and above) a login writes no
 * "incoming request" / "request completed" lines and gets no child logger of its own: the
 * authentication log records every decision, and those two lines per login cost more CPU than
 * the decision itself (bench/validate.ts). Warnings and errors are still written, without a
 * request id. At debug or trace a login is logged like any other request.
 */
export function loginRouteLogging(app: FastifyInstance): { childLoggerFactory?: () => FastifyBaseLogger } {
  const base = app.log;
  const level = (base as FastifyBaseLogger & { levelVal?: number }).levelVal ?? WARN;
  if (level <= DEBUG) return {};
  // Never more verbose than the node: a node at "error" stays at "error".
  const quiet = level >= WARN ? base : base.child({}, { level: 'warn' });
  return { childLoggerFactory: () => quiet };
}
