import { defaultMfaRequired } from '../auth/index.ts';
import { hashPin } from '../crypto/index.ts';
import {
  DEFAULT_GROUP,
  type Method,
  type MethodSwitch,
  requireCanonicalUsername,
  TesseraError,
  type User,
} from '../model/index.ts';
import type { Store } from '../store/index.ts';
import { type AdminContext, auditChange } from './context.ts';

export interface UserInput {
  username: string;
  displayName?: string;
  email?: string;
  phone?: string;
  group?: string;
  enabled?: boolean;
  mfaRequired?: boolean;
  pin?: string;
  methods?: Partial<Record<Method, MethodSwitch>>;
}

export type UserPatch = Omit<Partial<UserInput>, 'username' | 'pin'> & { pin?: string | null };

/** The user as the API shows it: never the PIN hash, only whether there is one. */
export type PublicUser = Omit<User, 'pinHash'> & { hasPin: boolean };

export function publicUser(user: User): PublicUser {
  const { pinHash, ...rest } = user;
  return { ...rest, hasPin: pinHash !== undefined };
}

async function requireGroup(store: Store, name: string): Promise<void> {
  if (name !== DEFAULT_GROUP && !(await store.getGroup(name))) {
    throw new TesseraError('BAD_REQUEST', `group "${name}" does not exist`);
  }
}

export async function createUser(ctx: AdminContext, input: UserInput): Promise<User> {
  const username = requireCanonicalUsername(input.username);
  const settings = await ctx.settings();
  const group = input.group ?? DEFAULT_GROUP;
  await requireGroup(ctx.store, group);
  const now = Date.now();
  const user: User = {
    username,
    group,
    enabled: input.enabled ?? true,
    mfaRequired: input.mfaRequired ?? defaultMfaRequired(settings),
    methods: input.methods ?? {},
    createdAt: now,
    updatedAt: now,
    ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
    ...(input.email !== undefined ? { email: input.email } : {}),
    ...(input.phone !== undefined ? { phone: input.phone } : {}),
    ...(input.pin ? { pinHash: await hashPin(input.pin) } : {}),
  };
  if (!(await ctx.store.createUser(user))) {
    throw new TesseraError('CONFLICT', `user "${username}" exists already`);
  }
  auditChange(ctx, 'user.create', { username: user.username }, null, user);
  return user;
}

export async function updateUser(ctx: AdminContext, name: string, patch: UserPatch): Promise<User> {
  const username = requireCanonicalUsername(name);
  const current = await ctx.store.getUser(username);
  if (!current) throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
  if (patch.group !== undefined) await requireGroup(ctx.store, patch.group);
  const { pin, ...fields } = patch;
  const next: User = { ...current, ...fields, updatedAt: Date.now() };
  if (pin === null) delete next.pinHash;
  else if (pin !== undefined) next.pinHash = await hashPin(pin);
  if (!(await ctx.store.updateUser(next)))
    throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
  auditChange(ctx, 'user.update', { username }, current, next);
  return next;
}

/**
 * Deletes by the canonical name; a name that is not canonical but is stored exactly as given (a
 * record the username migration could not rename, see username-migration.ts) is deleted as such,
 * so an admin can clear what the migration left unreachable.
 */
export async function deleteUser(ctx: AdminContext, name: string): Promise<void> {
  const canonical = requireCanonicalUsername(name);
  const username = canonical !== name && (await ctx.store.getUser(name)) ? name : canonical;
  if (!(await ctx.store.deleteUser(username))) {
    throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
  }
  ctx.audit('user.delete', { username });
}

export async function unlockUser(ctx: AdminContext, name: string): Promise<void> {
  const username = requireCanonicalUsername(name);
  if (!(await ctx.store.getUser(username)))
    throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
  await ctx.store.unlockUser(username);
  ctx.audit('user.unlock', { username });
}
