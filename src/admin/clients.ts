import { randomBytes } from 'node:crypto';
import { mintKey } from '../auth/index.ts';
import {
  type AdminKey,
  type Client,
  type ClientKind,
  TesseraError,
  type UnknownUserPolicy,
} from '../model/index.ts';
import type { AdminContext } from './context.ts';

export interface ClientInput {
  name: string;
  kind: ClientKind;
  allowedCidrs?: string[];
  challengeText?: string;
  enabled?: boolean;
  unknownUserPolicy?: UnknownUserPolicy;
  rejectDetail?: 'generic' | 'reason';
  firstFactor?: 'pin' | 'upstream';
}

export type PublicClient = Omit<Client, 'keyHash'>;

export function publicClient(client: Client): PublicClient {
  const { keyHash: _, ...rest } = client;
  return rest;
}

/** Creates a relying system and its API key; the key is returned here and never again. */
export async function createClient(
  ctx: AdminContext,
  input: ClientInput,
): Promise<{ client: Client; apiKey: string }> {
  const minted = mintKey('client');
  const client: Client = {
    id: minted.id,
    name: input.name,
    kind: input.kind,
    keyHash: minted.hash,
    allowedCidrs: input.allowedCidrs ?? [],
    challengeText: input.challengeText ?? 'Enter the code from your authenticator',
    enabled: input.enabled ?? true,
    rejectDetail: input.rejectDetail ?? 'generic',
    firstFactor: input.firstFactor ?? 'pin',
    createdAt: Date.now(),
    ...(input.unknownUserPolicy ? { unknownUserPolicy: input.unknownUserPolicy } : {}),
  };
  await ctx.store.putClient(client);
  ctx.audit('client.create', { client: client.id });
  return { client, apiKey: minted.key };
}

export async function updateClient(
  ctx: AdminContext,
  id: string,
  patch: Partial<Omit<ClientInput, 'kind'>>,
): Promise<Client> {
  const current = await ctx.store.getClient(id);
  if (!current) throw new TesseraError('NOT_FOUND', `client "${id}" does not exist`);
  const next: Client = { ...current, ...patch };
  await ctx.store.putClient(next);
  ctx.audit('client.update', { client: id, fields: Object.keys(patch).join(',') });
  return next;
}

export async function deleteClient(ctx: AdminContext, id: string): Promise<void> {
  if (!(await ctx.store.deleteClient(id)))
    throw new TesseraError('NOT_FOUND', `client "${id}" does not exist`);
  ctx.audit('client.delete', { client: id });
}

export async function createAdminKey(
  ctx: AdminContext,
  name: string,
): Promise<{ key: AdminKey; apiKey: string }> {
  const minted = mintKey('admin');
  const key: AdminKey = { id: minted.id, name, keyHash: minted.hash, createdAt: Date.now() };
  await ctx.store.putAdminKey(key);
  ctx.audit('admin-key.create', { keyId: key.id });
  return { key, apiKey: minted.key };
}

export function randomId(): string {
  return randomBytes(9).toString('base64url');
}
