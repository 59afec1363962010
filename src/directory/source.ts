import { existsSync } from 'node:fs';
import type { KeyRing } from '../crypto/index.ts';
import { type StoredDirectorySource, TesseraError } from '../model/index.ts';
import { checkFilter } from './fetch.ts';
import { PRESETS, type Preset } from './presets.ts';

/** What an admin sends to add a source; the bind password arrives in clear and is sealed at once. */
export interface SourceInput {
  name: string;
  url: string;
  startTls?: boolean;
  bindDn: string;
  bindPassword: string;
  baseDn: string;
  preset: Preset;
  userFilter?: string;
  groupFilter?: string;
  caFile?: string;
  connectTimeoutMs?: number;
  timeoutMs?: number;
  pageSize?: number;
  maxDisableFraction?: number;
  syncIntervalSeconds?: number;
  inviteNewUsers?: boolean;
}

/** A source as the API shows it: everything but the password. */
export type PublicSource = Omit<StoredDirectorySource, 'bindPasswordSealed'>;

export const SOURCE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const DEFAULTS = { connectTimeoutMs: 5_000, timeoutMs: 10_000, pageSize: 500, maxDisableFraction: 0.1 };

function sealAad(name: string): string {
  return `directory-source:${name}`;
}

/** Checks an input and seals its password; throws `BAD_REQUEST` naming the field (never its value). */
export function sealSource(input: SourceInput, ring: KeyRing, now: number): StoredDirectorySource {
  if (!SOURCE_NAME.test(input.name)) {
    throw new TesseraError('BAD_REQUEST', 'name must be 1-64 lower-case letters, digits, "-" or "_"');
  }
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new TesseraError('BAD_URL', 'url is not a URL');
  }
  if (url.protocol !== 'ldap:' && url.protocol !== 'ldaps:') {
    throw new TesseraError('BAD_URL', 'url must start with ldap:// or ldaps://');
  }
  if (url.pathname.length > 1 || url.search || url.username || url.password) {
    throw new TesseraError('BAD_URL', 'url must be scheme, host and port only');
  }
  if (input.startTls && url.protocol === 'ldaps:') {
    throw new TesseraError('BAD_REQUEST', 'startTls is for ldap:// urls; ldaps:// is TLS already');
  }
  if (!PRESETS.includes(input.preset)) throw new TesseraError('BAD_REQUEST', 'preset must be openldap or ad');
  if (input.caFile !== undefined && !existsSync(input.caFile)) {
    throw new TesseraError('BAD_REQUEST', 'caFile does not exist on this node');
  }
  // a filter that cannot parse is refused here, not at the first sync
  if (input.userFilter !== undefined) checkFilter(input.userFilter);
  if (input.groupFilter !== undefined) checkFilter(input.groupFilter);
  const interval = input.syncIntervalSeconds;
  if (interval !== undefined && !(Number.isInteger(interval) && interval >= 0 && interval <= 604_800))
    throw new TesseraError('BAD_REQUEST', 'syncIntervalSeconds must be 0..604800 (0: no schedule)');
  const fraction = input.maxDisableFraction ?? DEFAULTS.maxDisableFraction;
  if (!(fraction >= 0 && fraction <= 1))
    throw new TesseraError('BAD_REQUEST', 'maxDisableFraction must be 0..1');
  return {
    name: input.name,
    url: `${url.protocol}//${url.host}`,
    startTls: input.startTls ?? false,
    bindDn: input.bindDn,
    bindPasswordSealed: ring.seal(Buffer.from(input.bindPassword, 'utf8'), sealAad(input.name)),
    baseDn: input.baseDn,
    preset: input.preset,
    ...(input.userFilter !== undefined ? { userFilter: input.userFilter } : {}),
    ...(input.groupFilter !== undefined ? { groupFilter: input.groupFilter } : {}),
    ...(input.caFile !== undefined ? { caFile: input.caFile } : {}),
    connectTimeoutMs: input.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    timeoutMs: input.timeoutMs ?? DEFAULTS.timeoutMs,
    pageSize: input.pageSize ?? DEFAULTS.pageSize,
    maxDisableFraction: fraction,
    ...(input.syncIntervalSeconds ? { syncIntervalSeconds: input.syncIntervalSeconds } : {}),
    ...(input.inviteNewUsers ? { inviteNewUsers: true } : {}),
    createdAt: now,
  };
}

/** The bind password in clear, for one connection; null when this node's key ring cannot open it. */
export function openBindPassword(source: StoredDirectorySource, ring: KeyRing): string | null {
  const clear = ring.open(source.bindPasswordSealed, sealAad(source.name));
  return clear ? clear.toString('utf8') : null;
}

export function publicSource(source: StoredDirectorySource): PublicSource {
  const { bindPasswordSealed: _sealed, ...rest } = source;
  return rest;
}
