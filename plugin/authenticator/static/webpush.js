// Web Push wake-ups: where the browser offers PushManager, the app subscribes with the server's
// VAPID key and hands the subscription to the server, so a push wakes the phone while the app is
// closed. The wake-up carries no secret; the app reads the push itself over its signed routes.
import { deviceFetch } from './device.js';

function bytesOf(base64url) {
  const text = atob(base64url.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function sameBytes(a, b) {
  const x = new Uint8Array(a ?? []);
  return x.length === b.length && x.every((v, i) => v === b[i]);
}

/** 'subscribed', or why not: 'unsupported', 'denied', 'failed'. Never throws. */
export async function subscribeWakeUps(device) {
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) return 'unsupported';
  try {
    const reply = await deviceFetch(device, 'GET', '/v1/device/config');
    if (!reply.ok) return 'failed';
    const { vapidPublicKey } = await reply.json();
    if (!vapidPublicKey) return 'unsupported';
    const key = bytesOf(vapidPublicKey);
    const registration = await navigator.serviceWorker.ready;
    let sub = await registration.pushManager.getSubscription();
    if (sub && !sameBytes(sub.options.applicationServerKey, key)) {
      await sub.unsubscribe(); // made for another server key: useless now
      sub = null;
    }
    if (!sub) {
      if (window.Notification?.permission === 'denied') return 'denied';
      sub = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    }
    const { endpoint, keys } = sub.toJSON();
    const put = await deviceFetch(device, 'PUT', '/v1/device/webpush', {
      endpoint,
      keys: { p256dh: keys.p256dh, auth: keys.auth },
    });
    return put.ok ? 'subscribed' : 'failed';
  } catch {
    return 'failed'; // no push service, permission refused, offline: the event stream still works
  }
}
