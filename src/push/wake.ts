import webpush from 'web-push';
import type { PushChallenge } from '../model/index.ts';
import type { Store } from '../store/index.ts';
import { webPushEndpointAllowed } from './endpoint.ts';
import type { VapidKeys } from './vapid.ts';

/** How one wake-up ended: sent, no subscription, subscription dropped (404/410), or given up. */
export type WakeOutcome = 'sent' | 'none' | 'dropped' | 'failed';

export interface WebPushWakerOptions {
  store: Store;
  vapid: () => VapidKeys;
  /** VAPID `sub`: a mailto: or https: URL the push services can reach the operator at. */
  subject: string;
  /** Attempts in all (first send included) on 5xx, 429, timeouts and network errors. */
  attempts?: number;
  /** The first retry waits this long, each later one twice the one before (ms). */
  backoffMs?: number;
  timeoutMs?: number;
  /** The hosts wake-ups may go to (see endpoint.ts); any other endpoint is never contacted. */
  hosts: readonly string[];
  /** Plain http endpoints are refused unless this says otherwise (tests on loopback). */
  allowHttp?: boolean;
  observe?: (outcome: WakeOutcome) => void;
  log?: { warn(obj: object, msg: string): void };
}

/** What the phone's service worker receives: that a sign-in waits, never a code or number. */
export function wakePayload(push: PushChallenge): string {
  return JSON.stringify({ type: 'push', id: push.id });
}

/**
 * Web Push wake-ups for phones whose app is closed: the push service wakes the service worker,
 * which shows a notification; the app then reads the push over its signed routes. The message
 * is encrypted to the subscription (RFC 8291) and signed with VAPID (RFC 8292).
 */
export class WebPushWaker {
  constructor(private readonly opts: WebPushWakerOptions) {}

  async wake(push: PushChallenge): Promise<WakeOutcome> {
    const outcome = await this.send(push);
    this.opts.observe?.(outcome);
    return outcome;
  }

  private async send(push: PushChallenge): Promise<WakeOutcome> {
    const { store } = this.opts;
    const state = await store.push.getDeviceState(push.serial);
    const sub = state?.webPush;
    if (!sub) return 'none';
    // checked again here: the list may have changed since the phone sent its subscription
    if (!webPushEndpointAllowed(sub.endpoint, this.opts.hosts, this.opts.allowHttp)) return 'none';
    const vapid = this.opts.vapid();
    const ttl = Math.max(0, Math.ceil((push.expiresAt - Date.now()) / 1000));
    const request = webpush.generateRequestDetails(sub, wakePayload(push), {
      vapidDetails: { subject: this.opts.subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
      TTL: ttl,
      urgency: 'high',
      contentEncoding: 'aes128gcm',
    });
    const attempts = this.opts.attempts ?? 3;
    let wait = this.opts.backoffMs ?? 500;
    for (let i = 1; ; i++) {
      let status = 0;
      try {
        const res = await fetch(request.endpoint, {
          method: 'POST',
          headers: request.headers as Record<string, string>,
          body: request.body ? new Uint8Array(request.body) : null,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
        });
        status = res.status;
        await res.body?.cancel();
      } catch {
        status = 0; // timeout or network error: worth another try
      }
      if (status >= 200 && status < 300) return 'sent';
      if (status === 404 || status === 410) {
        // the browser unsubscribed: forget it, unless the device sent a new one meanwhile
        const now = await store.push.getDeviceState(push.serial);
        if (now?.webPush?.endpoint === sub.endpoint) {
          const { webPush: _gone, ...rest } = now;
          await store.push.putDeviceState(rest);
        }
        return 'dropped';
      }
      const retry = status === 0 || status === 429 || status >= 500;
      if (!retry || i >= attempts) {
        this.opts.log?.warn({ serial: push.serial, status, attempts: i }, 'web push wake-up not delivered');
        return 'failed';
      }
      await new Promise((r) => setTimeout(r, wait));
      wait *= 2;
    }
  }
}
