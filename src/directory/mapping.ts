import type { Entry } from 'ldapts';
import { canonicalizeUsername, type StoredDirectorySource } from '../model/index.ts';
import { all, first, normDn } from './fetch.ts';
import { AD_ACCOUNT_DISABLED, ATTRIBUTE_MAPS, guidToText } from './presets.ts';

/** One directory user, as Tessera sees it after mapping. */
export interface DirectoryUser {
  id: string;
  dn: string;
  username: string;
  displayName?: string;
  email?: string;
  phone?: string;
  /** LDAP group names (lower case) the user is a member of. */
  groups: string[];
  /** Disabled in the directory itself (AD's userAccountControl). */
  disabled: boolean;
}

export type Mapped = { ok: true; user: DirectoryUser } | { ok: false; dn: string; reason: string };

/** The first RDN's value of a DN: `cn=VPN Users,ou=groups,...` → `vpn users`. */
function rdnValue(dn: string): string | null {
  const m = /^[^=,]+=((?:\\.|[^,\\])+)/.exec(dn);
  return m?.[1] ? m[1].replace(/\\(.)/g, '$1').trim().toLowerCase() : null;
}

/**
 * Maps one entry. `memberships` (member DN → group names, from the group search) adds to the
 * entry's own memberOf values, so OpenLDAP without the memberof overlay works too.
 */
export function mapEntry(
  source: StoredDirectorySource,
  entry: Entry,
  memberships: ReadonlyMap<string, readonly string[]>,
): Mapped {
  const map = ATTRIBUTE_MAPS[source.preset];
  const rawId = entry[map.id];
  const idValue = Array.isArray(rawId) ? rawId[0] : rawId;
  const id =
    idValue === undefined
      ? null
      : Buffer.isBuffer(idValue)
        ? map.idEncoding === 'guid'
          ? guidToText(idValue)
          : idValue.toString('utf8')
        : idValue;
  if (!id) return { ok: false, dn: entry.dn, reason: `no ${map.id}` };
  let rawName: string | undefined;
  for (const attr of map.username) {
    rawName = first(entry[attr]);
    if (rawName) break;
  }
  if (!rawName) return { ok: false, dn: entry.dn, reason: `no ${map.username.join(' or ')}` };
  const canonical = canonicalizeUsername(rawName);
  if (!canonical.ok) return { ok: false, dn: entry.dn, reason: canonical.problem };
  const groups = new Set<string>();
  for (const dn of all(entry[map.memberOf])) {
    const name = rdnValue(dn);
    if (name) groups.add(name);
  }
  for (const g of memberships.get(normDn(entry.dn)) ?? []) groups.add(g.toLowerCase());
  const uac = Number(first(entry.userAccountControl) ?? '0');
  const displayName = first(entry[map.displayName]);
  const email = first(entry[map.email]);
  const phone = first(entry[map.mobile]);
  return {
    ok: true,
    user: {
      id,
      dn: entry.dn,
      username: canonical.name,
      ...(displayName ? { displayName } : {}),
      ...(email ? { email } : {}),
      ...(phone ? { phone } : {}),
      groups: [...groups].sort(),
      disabled: source.preset === 'ad' && (uac & AD_ACCOUNT_DISABLED) !== 0,
    },
  };
}

/**
 * A user has one Tessera group: the first of its directory groups (in name order) that names an
 * existing Tessera group, else the default group. Admins create Tessera groups named after the
 * directory groups whose method policy should differ.
 */
export function tesseraGroupFor(
  groups: readonly string[],
  existing: ReadonlySet<string>,
  fallback: string,
): string {
  return groups.find((g) => existing.has(g)) ?? fallback;
}
