import { isIPv4, isIPv6 } from 'node:net';

/** One network: an address with a prefix length (a bare address is its own /32 or /128). */
export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/**
 * Reads `10.0.0.0/8`, `2001:db8::/32` or a bare address. Null for anything else, including a
 * prefix longer than the family allows (`10.0.0.0/99`), a signed or padded prefix (`/+8`, `/08`)
 * or a zone id, so a stored list never holds an entry that would fail at request time.
 */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) && !address.includes('%') ? 'ipv6' : null;
  if (!family) return null;
  const max = family === 'ipv4' ? 32 : 128;
  if (slash === -1) return { address, prefix: max, family };
  const bits = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(bits)) return null;
  const prefix = Number(bits);
  return prefix <= max ? { address, prefix, family } : null;
}

/** The first entry of `list` that is not a network or address, or null when all are. */
export function firstBadCidr(list: readonly string[]): string | null {
  return list.find((entry) => parseCidr(entry) === null) ?? null;
}

/**
 * A comma-separated list of addresses and networks from the environment (e.g.
 * `TESSERA_TRUST_PROXY`). Returns the entries, or an error message that names the variable and
 * the bad entry. An empty or unset value is an empty list.
 */
export function parseAddressList(
  variable: string,
  text: string | undefined,
): { ok: true; value: string[] } | { ok: false; error: string } {
  if (text === undefined || text.trim() === '') return { ok: true, value: [] };
  const entries = text.split(',').map((e) => e.trim());
  for (const entry of entries) {
    if (entry === '') return { ok: false, error: `${variable}: an empty entry in "${text}"` };
    if (entry === 'true' || entry === 'false') {
      return {
        ok: false,
        error: `${variable}: "${entry}" is not a proxy address (trusting every sender would let any caller choose its own address)`,
      };
    }
    if (!parseCidr(entry)) {
      return {
        ok: false,
        error: `${variable}: "${entry}" is not an address or network`,
      };
    }
  }
  return { ok: true, value: entries };
}
