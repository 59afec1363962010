import { randomBytes } from 'node:crypto';
import { mintKey } from '../auth/index.ts';
import {
  type Client,
  type ClientKind,
  firstBadCidr,
  METHODS,
  type Method,
  TesseraError,
  type UnknownUserPolicy,
} from '../model/index.ts';
import { type AdminContext, auditChange } from './context.ts';

export interface ClientInput {
  name: string;
  kind: ClientKind;
  allowedCidrs?: string[];
  challengeText?: string;
  enabled?: boolean;
  unknownUserPolicy?: UnknownUserPolicy;
  rejectDetail?: 'generic' | 'reason';
  firstFactor?: 'pin' | 'upstream' | 'ldap';
  auditSuccessRate?: number;
  pushMode?: Client['pushMode'];
  pushHoldSeconds?: number;
  challenge?: 'enabled' | 'disabled';
  allowedMethods?: Method[];
  methodChoice?: 'menu' | 'default';
}

/** A patch may drop the method restriction again with `allowedMethods: null`. */
export type ClientPatch = Partial<Omit<ClientInput, 'kind' | 'allowedMethods'>> & {
  allowedMethods?: Method[] | null;
};

export type PublicClient = Omit<Client, 'keyHash'>;

export function publicClient(client: Client): PublicClient {
  const { keyHash: _, ...rest } = client;
  return rest;
}

/**
 * A client's networks are checked when they are saved: a bad entry stored would fail every
 * request of that client later, far from the mistake.
 */
function checkCidrs(cidrs: readonly string[] | undefined): void {
  const bad = cidrs ? firstBadCidr(cidrs) : null;
  if (bad !== null) {
    throw new TesseraError(
      'INVALID_CIDR',
      `allowedCidrs: "${bad}" is not an IPv4 or IPv6 address or network (e.g. 10.0.0.0/8, 2001:db8::/32)`,
    );
  }
}

/** How long a held RADIUS request may wait for the tap (seconds): a NAS gives up long before 120. */
export const PUSH_HOLD_SECONDS = { min: 1, max: 120 } as const;

/**
 * The choices every face (API, CLI, console) also checks in its own words, checked once more here
 * where they are saved: a value no face would send (a script, an import) never reaches the store.
 */
function checkChoices(input: ClientPatch): void {
  const hold = input.pushHoldSeconds;
  if (
    hold !== undefined &&
    !(Number.isInteger(hold) && hold >= PUSH_HOLD_SECONDS.min && hold <= PUSH_HOLD_SECONDS.max)
  )
    throw new TesseraError(
      'BAD_REQUEST',
      `pushHoldSeconds: a whole number of seconds from ${PUSH_HOLD_SECONDS.min} to ${PUSH_HOLD_SECONDS.max}`,
    );
  const methods = input.allowedMethods;
  if (methods && (methods.length === 0 || methods.some((m) => !METHODS.includes(m))))
    throw new TesseraError('BAD_REQUEST', `allowedMethods: one or more of ${METHODS.join(', ')}`);
  const rate = input.auditSuccessRate;
  if (rate !== undefined && !(rate >= 0 && rate <= 1))
    throw new TesseraError('BAD_REQUEST', 'auditSuccessRate: a number from 0 to 1');
}

/** Creates a relying system and its API key; the key is returned here and never again. */
export async function createClient(
  ctx: AdminContext,
  input: ClientInput,
): Promise<{ client: Client; apiKey: string }> {
  checkCidrs(input.allowedCidrs);
  checkChoices(input);
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
    ...(input.auditSuccessRate !== undefined ? { auditSuccessRate: input.auditSuccessRate } : {}),
    ...(input.pushMode ? { pushMode: input.pushMode } : {}),
    ...(input.pushHoldSeconds !== undefined ? { pushHoldSeconds: input.pushHoldSeconds } : {}),
    ...(input.challenge ? { challenge: input.challenge } : {}),
    ...(input.allowedMethods ? { allowedMethods: [...new Set(input.allowedMethods)] } : {}),
    ...(input.methodChoice ? { methodChoice: input.methodChoice } : {}),
  };
  await ctx.store.putClient(client);
  auditChange(ctx, 'client.create', { client: client.id }, null, client);
  return { client, apiKey: minted.key };
}

export async function updateClient(ctx: AdminContext, id: string, patch: ClientPatch): Promise<Client> {
  checkCidrs(patch.allowedCidrs);
  checkChoices(patch);
  const current = await ctx.store.getClient(id);
  if (!current) throw new TesseraError('NOT_FOUND', `client "${id}" does not exist`);
  const { allowedMethods, ...rest } = patch;
  const next: Client = { ...current, ...rest };
  if (allowedMethods === null) delete next.allowedMethods;
  else if (allowedMethods) next.allowedMethods = [...new Set(allowedMethods)];
  await ctx.store.putClient(next);
  auditChange(ctx, 'client.update', { client: id }, current, next);
  return next;
}

/**
 * Gives a client a new API key; the old one stops working at once (every node forgets its cached
 * callers on a `client.` audit event). The new key is returned here and never again.
 */
export async function rotateClientKey(
  ctx: AdminContext,
  id: string,
): Promise<{ client: Client; apiKey: string }> {
  const current = await ctx.store.getClient(id);
  if (!current) throw new TesseraError('NOT_FOUND', `client "${id}" does not exist`);
  // A fresh secret under the client's own id: only the secret part is hashed and compared.
  const minted = mintKey('client');
  const [prefix, , secret] = minted.key.split('.');
  const next: Client = { ...current, keyHash: minted.hash };
  await ctx.store.putClient(next);
  auditChange(ctx, 'client.rotate-key', { client: id }, current, next);
  return { client: next, apiKey: `${prefix}.${id}.${secret}` };
}

export async function deleteClient(ctx: AdminContext, id: string): Promise<void> {
  if (!(await ctx.store.deleteClient(id)))
    throw new TesseraError('NOT_FOUND', `client "${id}" does not exist`);
  ctx.audit('client.delete', { client: id });
}

export function randomId(): string {
  return randomBytes(9).toString('base64url');
}
