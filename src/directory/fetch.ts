import { type Client, type Entry, FilterParser } from 'ldapts';
import { type StoredDirectorySource, TesseraError } from '../model/index.ts';
import { ATTRIBUTE_MAPS } from './presets.ts';

/** Throws `DIRECTORY_BAD_FILTER` before any request when a filter does not parse. */
export function checkFilter(filter: string): void {
  try {
    FilterParser.parseString(filter);
  } catch {
    throw new TesseraError('DIRECTORY_BAD_FILTER', 'the search filter is not valid LDAP filter syntax');
  }
}

export function userFilterOf(source: StoredDirectorySource): string {
  return source.userFilter ?? ATTRIBUTE_MAPS[source.preset].defaultUserFilter;
}

export function groupFilterOf(source: StoredDirectorySource): string {
  return source.groupFilter ?? ATTRIBUTE_MAPS[source.preset].defaultGroupFilter;
}

export function userAttributes(source: StoredDirectorySource): string[] {
  const map = ATTRIBUTE_MAPS[source.preset];
  return [
    ...map.username,
    map.displayName,
    map.email,
    map.mobile,
    map.id,
    map.memberOf,
    ...(source.preset === 'ad' ? ['userAccountControl'] : []),
  ];
}

/** Every user entry under the base DN, page by page (bounded memory per page on the wire). */
export async function* userEntries(client: Client, source: StoredDirectorySource): AsyncGenerator<Entry> {
  const filter = userFilterOf(source);
  checkFilter(filter);
  const map = ATTRIBUTE_MAPS[source.preset];
  const pages = client.searchPaginated(source.baseDn, {
    scope: 'sub',
    filter,
    attributes: userAttributes(source),
    paged: { pageSize: source.pageSize },
    explicitBufferAttributes: map.idEncoding === 'guid' ? [map.id] : [],
  });
  for await (const page of pages) yield* page.searchEntries;
}

/** Group name → member DNs (lower-cased), from the group filter under the base DN. */
export async function groupMembers(
  client: Client,
  source: StoredDirectorySource,
): Promise<Map<string, Set<string>>> {
  const filter = groupFilterOf(source);
  checkFilter(filter);
  const map = ATTRIBUTE_MAPS[source.preset];
  const out = new Map<string, Set<string>>();
  const pages = client.searchPaginated(source.baseDn, {
    scope: 'sub',
    filter,
    attributes: [map.groupName, map.groupMember, 'uniqueMember'],
    paged: { pageSize: source.pageSize },
  });
  for await (const page of pages) {
    for (const e of page.searchEntries) {
      const name = first(e[map.groupName]);
      if (!name) continue;
      const members = [...all(e[map.groupMember]), ...all(e.uniqueMember)].map(normDn);
      out.set(name, new Set(members));
    }
  }
  return out;
}

export function first(v: Entry[string] | undefined): string | undefined {
  const a = all(v);
  return a[0];
}

export function all(v: Entry[string] | undefined): string[] {
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : x)).filter((x) => x.length > 0);
}

/** DNs compared loosely: case and spaces after commas do not matter. */
export function normDn(dn: string): string {
  return dn.replace(/,\s+/g, ',').toLowerCase();
}
