// The end user's address as a relying system forwards it (Keycloak, FreeRADIUS), one header for all.

import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';

/** The header a relying system uses to tell Tessera where its end user came from. */
export const CLIENT_IP_HEADER = 'x-tessera-client-ip';

/** The forwarded address if it is one (IPv4 or IPv6); anything else is ignored, never trusted. */
export function forwardedClientIp(headers: IncomingHttpHeaders): string | undefined {
  const raw = headers[CLIENT_IP_HEADER];
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (typeof v !== 'string' || v.length > 64) return undefined;
  const trimmed = v.trim();
  return isIP(trimmed) !== 0 ? trimmed : undefined;
}
