// The app's service worker: keeps the app's own files so it opens (and makes codes) with no
// network. Only the app's files are cached; device API calls always go to the network.
const CACHE = 'tessera-authenticator-v2';
const SHELL = [
  '/authenticator/',
  '/authenticator/app.js',
  '/authenticator/device.js',
  '/authenticator/events.js',
  '/authenticator/totp.js',
  '/authenticator/uv.js',
  '/authenticator/view.js',
  '/authenticator/webpush.js',
  '/authenticator/app.css',
  '/authenticator/icon.svg',
  '/authenticator/manifest.webmanifest',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

// Network first (a new version is picked up at once), the cached copy when there is no network.
self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (!url.pathname.startsWith('/authenticator/')) return;
  const key = url.pathname === '/authenticator/index.html' ? '/authenticator/' : url.pathname;
  event.respondWith(
    fetch(event.request)
      .then((reply) => {
        if (reply.ok) {
          const copy = reply.clone();
          caches.open(CACHE).then((cache) => cache.put(key, copy));
        }
        return reply;
      })
      .catch(() => caches.match(key).then((hit) => hit ?? Response.error())),
  );
});

// A Web Push wake-up: it says only that a sign-in waits; the app shows and answers the request.
self.addEventListener('push', (event) => {
  let id = '';
  try {
    id = String(event.data?.json()?.id ?? '');
  } catch {
    // not ours or not JSON: still tell the user to look
  }
  event.waitUntil(
    self.registration.showNotification('Sign-in request', {
      body: 'A sign-in waits for your approval. Open the authenticator to answer it.',
      icon: '/authenticator/icon.svg',
      tag: id ? `push-${id}` : 'push',
      requireInteraction: true,
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    self.clients.matchAll({ type: 'window' }).then((open) => {
      const app = open.find((c) => new URL(c.url).pathname.startsWith('/authenticator/'));
      return app ? app.focus() : self.clients.openWindow('/authenticator/');
    }),
  );
});
