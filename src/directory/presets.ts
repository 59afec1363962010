/** Which attributes hold what, for the directory kinds we know. */
export interface AttributeMap {
  /** Tried in order: the first present value becomes the username. */
  username: string[];
  displayName: string;
  email: string;
  mobile: string;
  /** The stable entry id that survives renames and moves. */
  id: string;
  /** How the id is written: entryUUID is text, objectGUID is 16 raw bytes. */
  idEncoding: 'text' | 'guid';
  memberOf: string;
  /** Group entries: the name attribute and the member attribute (member DNs). */
  groupName: string;
  groupMember: string;
  defaultUserFilter: string;
  defaultGroupFilter: string;
}

export type Preset = 'openldap' | 'ad';
export const PRESETS: readonly Preset[] = ['openldap', 'ad'];

export const ATTRIBUTE_MAPS: Record<Preset, AttributeMap> = {
  openldap: {
    username: ['uid'],
    displayName: 'cn',
    email: 'mail',
    mobile: 'mobile',
    id: 'entryUUID',
    idEncoding: 'text',
    memberOf: 'memberOf',
    groupName: 'cn',
    groupMember: 'member',
    defaultUserFilter: '(objectClass=inetOrgPerson)',
    defaultGroupFilter: '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))',
  },
  ad: {
    username: ['sAMAccountName', 'userPrincipalName'],
    displayName: 'displayName',
    email: 'mail',
    mobile: 'mobile',
    id: 'objectGUID',
    idEncoding: 'guid',
    memberOf: 'memberOf',
    groupName: 'cn',
    groupMember: 'member',
    defaultUserFilter: '(&(objectCategory=person)(objectClass=user))',
    defaultGroupFilter: '(objectClass=group)',
  },
};

/** AD's userAccountControl flag ACCOUNTDISABLE. */
export const AD_ACCOUNT_DISABLED = 0x2;

/**
 * objectGUID as AD writes it in text: the first three fields little-endian
 * (`{33221100-5544-7766-8899-aabbccddeeff}` without braces, lower case).
 */
export function guidToText(raw: Buffer): string | null {
  if (raw.length !== 16) return null;
  const h = (from: number, to: number, reverse: boolean): string => {
    const part = Buffer.from(raw.subarray(from, to));
    return (reverse ? part.reverse() : part).toString('hex');
  };
  return `${h(0, 4, true)}-${h(4, 6, true)}-${h(6, 8, true)}-${h(8, 10, false)}-${h(10, 16, false)}`;
}
