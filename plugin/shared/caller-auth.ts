import type { FastifyReply, FastifyRequest } from 'fastify';
import { adminKeyUsable, type CallerDirectory, keyMatches, parseKey } from '../../src/auth/index.ts';
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

/**
 * Which keys a face takes: `admin` keys, `client` keys of relying systems (a `node` client only
 * pulls snapshots and is refused here), or `any` valid key when the face decides by itself.
 */
export type CallerWanted = Caller['kind'] | 'any';

/**
 * Resolves the Bearer key to a caller. 401 for a missing, wrong or expired key, 403 for the wrong
 * kind.
 */
export async function authenticateCaller(
  directory: CallerLookup,
  request: FastifyRequest,
  want: CallerWanted,
): Promise<Caller> {
  const raw = bearer(request);
  const parsed = raw ? parseKey(raw) : null;
  if (!parsed)
    throw new TesseraError('UNAUTHORIZED', 'a valid API key is required (Authorization: Bearer <key>)');
  let caller: Caller | null = null;
  if (parsed.kind === 'admin') {
    const key = (await directory.lookup('admin', parsed.id)) as AdminKey | null;
    if (key && keyMatches(parsed, key.keyHash)) {
      if (!adminKeyUsable(key, Date.now()))
        throw new TesseraError('UNAUTHORIZED', 'this admin key has expired');
      caller = { kind: 'admin', key };
    }
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
  if (want !== 'any' && caller.kind !== want)
    throw new TesseraError('FORBIDDEN', `this call needs a ${want} key`);
  if (want === 'client' && caller.kind === 'client' && caller.client.kind === 'node') {
    throw new TesseraError('FORBIDDEN', 'a node key only pulls snapshots');
  }
  return caller;
}

/** An onRequest hook: every route of the face needs a caller of this kind. */
export function requireCaller(directory: CallerLookup, want: CallerWanted) {
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
