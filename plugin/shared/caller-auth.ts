import type { FastifyReply, FastifyRequest } from 'fastify';
import { type CallerDirectory, keyMatches, parseKey } from '../../src/auth/index.ts';
import { type AdminKey, type Client, TesseraError } from '../../src/model/index.ts';
import { sourceAllowed } from './source-allowed.ts';

export type Caller = { kind: 'admin'; key: AdminKey } | { kind: 'client'; client: Client };

/** What caller authentication needs: the records behind key ids (src/auth CallerDirectory). */
export type CallerLookup = Pick<CallerDirectory, 'lookup'>;

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

function bearer(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

/** Resolves the Bearer key to a caller. 401 for a missing or wrong key, 403 for the wrong kind. */
export async function authenticateCaller(
  directory: CallerLookup,
  request: FastifyRequest,
  want: Caller['kind'],
): Promise<Caller> {
  const raw = bearer(request);
  const parsed = raw ? parseKey(raw) : null;
  if (!parsed)
    throw new TesseraError('UNAUTHORIZED', 'a valid API key is required (Authorization: Bearer <key>)');
  let caller: Caller | null = null;
  if (parsed.kind === 'admin') {
    const key = (await directory.lookup('admin', parsed.id)) as AdminKey | null;
    if (key && keyMatches(parsed, key.keyHash)) caller = { kind: 'admin', key };
  } else {
    const client = (await directory.lookup('client', parsed.id)) as Client | null;
    if (client && keyMatches(parsed, client.keyHash)) {
      if (!client.enabled) throw new TesseraError('FORBIDDEN', 'this client is disabled');
      if (!sourceAllowed(request.ip, client.allowedCidrs)) {
        throw new TesseraError('FORBIDDEN', 'this client may not call from this address');
      }
      caller = { kind: 'client', client };
    }
  }
  if (!caller) throw new TesseraError('UNAUTHORIZED', 'the API key is not valid');
  if (caller.kind !== want) throw new TesseraError('FORBIDDEN', `this call needs a ${want} key`);
  return caller;
}

/** An onRequest hook: every route of the face needs a caller of this kind. */
export function requireCaller(directory: CallerLookup, want: Caller['kind']) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    request.caller = await authenticateCaller(directory, request, want);
  };
}

export function callerClient(request: FastifyRequest): Client {
  if (request.caller?.kind !== 'client') throw new TesseraError('FORBIDDEN', 'this call needs a client key');
  return request.caller.client;
}

export function callerActor(request: FastifyRequest): string {
  const c = request.caller;
  return c?.kind === 'admin'
    ? `admin:${c.key.id}`
    : c?.kind === 'client'
      ? `client:${c.client.id}`
      : 'anonymous';
}
