/**
 * Which Web Push endpoints this server sends wake-ups to. The endpoint comes from the phone, so a
 * paired device could otherwise make every node POST to any address it names (an internal admin
 * page, a cloud metadata service). Only the browsers' push services are on the default list;
 * TESSERA_WEBPUSH_HOSTS replaces it (a self-hosted push service, a test's loopback endpoint).
 */
export const DEFAULT_WEBPUSH_HOSTS: readonly string[] = [
  // Chrome, Chromium and other Blink browsers
  'fcm.googleapis.com',
  // Firefox
  'updates.push.services.mozilla.com',
  // Safari (macOS 13+, iOS 16.4+)
  'web.push.apple.com',
  // Edge on Windows: regional hosts under this name
  '*.notify.windows.com',
];

/** A host pattern of TESSERA_WEBPUSH_HOSTS: a name or address, or `*.` and a name (any host under it). */
export function isWebPushHostPattern(pattern: string): boolean {
  return /^(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(pattern) || /^\[[0-9a-f:.]+\]$/i.test(pattern);
}

function hostMatches(host: string, pattern: string): boolean {
  const p = pattern.toLowerCase();
  if (p.startsWith('*.')) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  return host === p;
}

/**
 * Whether a wake-up may go to `endpoint`: https (plain http only where `allowHttp` says so), no
 * credentials in it, and a host on the list.
 */
export function webPushEndpointAllowed(
  endpoint: string,
  hosts: readonly string[],
  allowHttp = false,
): boolean {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowHttp)) return false;
  if (url.username || url.password) return false;
  const host = url.hostname.toLowerCase();
  return hosts.some((p) => hostMatches(host, p));
}
