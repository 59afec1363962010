// The paired device: its P-256 key (non-extractable, in IndexedDB), its id and configuration, and
// every request to the device API signed as plugin/device expects (nonce + timestamp, replay-proof).

const DB = 'tessera-authenticator';
const STORE = 'device';
const KEY = 'current';

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function tx(mode, work) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const request = work(t.objectStore(STORE));
      t.oncomplete = () => resolve(request?.result);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  } finally {
    db.close();
  }
}

/** The stored device record, or undefined before pairing. CryptoKeys survive as structured clones. */
export const loadDevice = () => tx('readonly', (s) => s.get(KEY));
export const saveDevice = (device) => tx('readwrite', (s) => s.put(device, KEY));
export const forgetDevice = () => tx('readwrite', (s) => s.delete(KEY));

export function base64url(bytes) {
  let text = '';
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A fresh signing key: the private half can sign but never be exported, not even by this app. */
export async function newKeyPair() {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ]);
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  return { privateKey: pair.privateKey, publicJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } };
}

/** The headers of a signed request: `METHOD\nPATH\nTIMESTAMP\nNONCE\nbase64url(SHA-256(body))`. */
export async function signedHeaders(device, method, path, body) {
  const timestamp = String(Date.now());
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const bodyHash = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body)));
  const text = `${method}\n${path}\n${timestamp}\n${nonce}\n${bodyHash}`;
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    device.privateKey,
    new TextEncoder().encode(text),
  );
  return {
    'x-tessera-device': device.deviceId,
    'x-tessera-timestamp': timestamp,
    'x-tessera-nonce': nonce,
    'x-tessera-signature': base64url(signature),
  };
}

/** A signed request to the device API; `signal` aborts it (the event stream is one long request). */
export async function deviceFetch(device, method, path, payload, signal) {
  const body = payload === undefined ? '' : JSON.stringify(payload);
  const headers = await signedHeaders(device, method, path, body);
  if (payload !== undefined) headers['content-type'] = 'application/json';
  return fetch(path, {
    method,
    headers,
    body: payload === undefined ? undefined : body,
    cache: 'no-store',
    signal,
  });
}

/** The pairing token from a link (`…/authenticator/#pair=…`) or QR text (`tessera-pair://?url=…&token=…`). */
export function pairingTokenOf(text) {
  const trimmed = text.trim();
  const hash = /#pair=([A-Za-z0-9_-]{16,128})/.exec(trimmed);
  if (hash) return { token: hash[1], url: null };
  if (trimmed.startsWith('tessera-pair://')) {
    const query = new URLSearchParams(trimmed.slice(trimmed.indexOf('?') + 1));
    const token = query.get('token') ?? '';
    if (/^[A-Za-z0-9_-]{16,128}$/.test(token)) return { token, url: query.get('url') };
  }
  if (/^[A-Za-z0-9_-]{16,128}$/.test(trimmed)) return { token: trimmed, url: null };
  return null;
}
