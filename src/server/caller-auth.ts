import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { keyMatches, parseKey } from '../auth/index.ts';
import { type AdminKey, type Client, TesseraError } from '../model/index.ts';
import type { Store } from '../store/index.ts';

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

function sourceAllowed(ip: string, cidrs: string[]): boolean {
  if (cidrs.length === 0) return true;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, bits] = cidr.split('/');
    if (!net) continue;
    const type = isIPv6(net) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(net, type);
    else list.addSubnet(net, Number(bits), type);
  }
  const plain = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  return list.check(plain, isIPv6(plain) ? 'ipv6' : 'ipv4');
}

/** Resolves the Bearer key to a caller. 401 for a missing or wrong key, 403 for the wrong kind. */
export async function authenticateCaller(
  store: Store,
  request: FastifyRequest,
  want: Caller['kind'],
): Promise<Caller> {
  const raw = bearer(request);
  const parsed = raw ? parseKey(raw) : null;
  if (!parsed)
    throw new TesseraError('UNAUTHORIZED', 'a valid API key is required (Authorization: Bearer <key>)');
  let caller: Caller | null = null;
  if (parsed.kind === 'admin') {
    const key = await store.getAdminKey(parsed.id);
    if (key && keyMatches(parsed, key.keyHash)) caller = { kind: 'admin', key };
  } else {
    const client = await store.getClient(parsed.id);
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

export function requireCaller(store: Store, want: Caller['kind']) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    request.caller = await authenticateCaller(store, request, want);
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
