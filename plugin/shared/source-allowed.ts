import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { parseCidr } from '../../src/model/index.ts';

/**
 * Each client's allowed networks as a BlockList, built once per CIDR list rather than per request.
 * Keyed by the list itself: a reloaded or changed client record brings a new array (and list).
 */
const lists = new WeakMap<readonly string[], BlockList>();

function blockListOf(cidrs: readonly string[]): BlockList {
  let list = lists.get(cidrs);
  if (list) return list;
  list = new BlockList();
  for (const text of cidrs) {
    // Entries are checked when saved; one stored before that check matches nothing (fails closed).
    const cidr = parseCidr(text);
    if (cidr) list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  lists.set(cidrs, list);
  return list;
}

/** True when `ip` lies in one of `cidrs`, or when there are none (no restriction). */
export function sourceAllowed(ip: string, cidrs: readonly string[]): boolean {
  if (cidrs.length === 0) return true;
  const plain = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  return blockListOf(cidrs).check(plain, isIPv6(plain) ? 'ipv6' : 'ipv4');
}
