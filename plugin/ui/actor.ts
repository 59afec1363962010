import type { FastifyRequest } from 'fastify';
import type { AdminContext } from '../../src/admin/index.ts';
import { TesseraError } from '../../src/model/index.ts';
import type { SelfServiceContext } from '../../src/portal/index.ts';
import type { FieldErrors } from './forms.ts';
import type { UiFaceOptions } from './options.ts';

/** The admin context of the person signed in: audited as `console:<name>` with the role. */
export function consoleContext(face: UiFaceOptions, request: FastifyRequest): AdminContext {
  const s = request.consoleSession!;
  const ctx = face.adminContext(`console:${s.username}`, request.ip);
  return { ...ctx, audit: (type, detail) => ctx.audit(type, { ...detail, role: s.role }) };
}

/** The self-service context of the person signed in, audited like `consoleContext`. */
export function consoleSelfService(face: UiFaceOptions, request: FastifyRequest): SelfServiceContext {
  const s = request.consoleSession!;
  if (!face.selfService)
    throw new TesseraError(
      'CONFLICT',
      'self-service (invitations, temporary codes) is not set up on this node',
    );
  const ctx = face.selfService(`console:${s.username}`, request.ip);
  return { ...ctx, audit: (type, detail) => ctx.audit(type, { ...detail, role: s.role }) };
}

/**
 * Runs an operation whose refusal (a 4xx TesseraError: a name taken, a group missing) belongs next
 * to a field of the form: returns the errors, or null when it went through. Anything else throws.
 */
export async function fieldAttempt(field: string, op: () => Promise<unknown>): Promise<FieldErrors | null> {
  try {
    await op();
    return null;
  } catch (err) {
    if (err instanceof TesseraError && err.status < 500) return { [field]: err.message };
    throw err;
  }
}
