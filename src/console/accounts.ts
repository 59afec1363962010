import { randomBytes } from 'node:crypto';
import type { AdminContext } from '../admin/index.ts';
import { hashPin } from '../crypto/index.ts';
import { ADMIN_ROLES, type AdminRole, requireCanonicalUsername, TesseraError } from '../model/index.ts';
import type { ConsoleAccount } from '../store/index.ts';

/** Shorter passwords are refused: the console reaches every user, token and key. */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

export interface ConsoleAccountInput {
  username: string;
  role: AdminRole;
  /** Absent with `directorySource`: the directory checks the password. */
  password?: string;
  directorySource?: string;
}

/** What the console and the CLI show of an account: never a hash or a seed. */
export interface PublicConsoleAccount {
  username: string;
  role: AdminRole;
  directorySource?: string;
  totpEnrolled: boolean;
  enabled: boolean;
  createdAt: number;
}

export function publicConsoleAccount(a: ConsoleAccount): PublicConsoleAccount {
  return {
    username: a.username,
    role: a.role,
    ...(a.directorySource ? { directorySource: a.directorySource } : {}),
    totpEnrolled: a.totpSealed !== undefined,
    enabled: a.enabled,
    createdAt: a.createdAt,
  };
}

/** Why a password is not acceptable, or null. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `at most ${MAX_PASSWORD_LENGTH} characters`;
  return null;
}

/** A password for an account made without one: 24 characters of base64url (144 bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * Creates a console account; it enrols its TOTP at its first sign-in. A directory account names
 * the source whose bind checks its password (the user must have been synced from it).
 */
export async function createConsoleAccount(
  ctx: AdminContext,
  input: ConsoleAccountInput,
): Promise<ConsoleAccount> {
  const username = requireCanonicalUsername(input.username);
  if (!ADMIN_ROLES.includes(input.role)) throw new TesseraError('BAD_REQUEST', 'unknown role');
  if (input.password === undefined && !input.directorySource)
    throw new TesseraError('BAD_REQUEST', 'a console account needs a password or a directory source');
  if (input.password !== undefined) {
    const problem = passwordProblem(input.password);
    if (problem) throw new TesseraError('BAD_REQUEST', `the password must have ${problem}`);
  }
  if (input.directorySource) {
    const sources = (await ctx.settings()).directorySources ?? [];
    if (!sources.some((s) => s.name === input.directorySource))
      throw new TesseraError('BAD_REQUEST', `directory source "${input.directorySource}" does not exist`);
  }
  if (await ctx.store.getConsoleAccount(username))
    throw new TesseraError('CONFLICT', `console account "${username}" exists already`);
  const now = Date.now();
  const account: ConsoleAccount = {
    username,
    role: input.role,
    enabled: true,
    createdAt: now,
    updatedAt: now,
    ...(input.password !== undefined ? { passwordHash: await hashPin(input.password) } : {}),
    ...(input.directorySource ? { directorySource: input.directorySource } : {}),
  };
  await ctx.store.putConsoleAccount(account);
  ctx.audit('console-account.create', { account: username, role: input.role });
  return account;
}

export async function listConsoleAccounts(ctx: AdminContext): Promise<PublicConsoleAccount[]> {
  return (await ctx.store.listConsoleAccounts()).map(publicConsoleAccount);
}

/** Forgets the TOTP seed: the account enrols a new one at its next sign-in (a lost phone). */
export async function resetConsoleTotp(ctx: AdminContext, name: string): Promise<void> {
  const username = requireCanonicalUsername(name);
  const account = await ctx.store.getConsoleAccount(username);
  if (!account) throw new TesseraError('NOT_FOUND', `console account "${username}" does not exist`);
  const { totpSealed: _, ...rest } = account;
  await ctx.store.putConsoleAccount({ ...rest, updatedAt: Date.now() });
  ctx.audit('console-account.totp-reset', { account: username });
}

export async function deleteConsoleAccount(ctx: AdminContext, name: string): Promise<void> {
  const username = requireCanonicalUsername(name);
  if (!(await ctx.store.deleteConsoleAccount(username)))
    throw new TesseraError('NOT_FOUND', `console account "${username}" does not exist`);
  ctx.audit('console-account.delete', { account: username });
}
