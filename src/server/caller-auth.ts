import type { FastifyReply, FastifyRequest } from 'fastify';
import { keyMatches, parseKey } from '../auth/index.ts';
import { type AdminKey, type Client, TesseraError } from '../model/index.ts';
import type { Store } from '../store/index.ts';
import { sourceAllowed } from './source-allowed.ts';

export type Caller = { kind: 'admin'; key: AdminKey } | { kind: 'client'; client: Client };

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

const CACHE_MS = 5_000;

/**
 * Finds the stored record behind a key id. Records are kept for a few seconds so that a validation
 * costs no store round trip for its caller; a disabled or deleted client stops working on every
 * node within CACHE_MS, at once on the node that changed it (forget()).
 */
export class CallerDirectory {
  private readonly cache = new Map<string, { at: number; record: AdminKey | Client | null }>();

  constructor(private readonly store: Store) {}

  async lookup(kind: 'admin' | 'client', id: string): Promise<AdminKey | Client | null> {
    const key = `${kind}:${id}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.record;
    const record = kind === 'admin' ? await this.store.getAdminKey(id) : await this.store.getClient(id);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { at: Date.now(), record });
    return record;
  }

  forget(): void {
    this.cache.clear();
  }
}

/** Resolves the Bearer key to a caller. 401 for a missing or wrong key, 403 for the wrong kind. */
export async function authenticateCaller(
  directory: CallerDirectory,
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

export function requireCaller(directory: CallerDirectory, want: Caller['kind']) {
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
