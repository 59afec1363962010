// The authenticator's service worker and a Web Push wake-up, in Chromium: the push event (delivered
// through the DevTools protocol, as a push service would) shows a notification that says a sign-in
// waits and carries nothing from the message. Every wait is bounded.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { launchBrowser, type TestBrowser } from '../harness/browser.ts';
import { freePort } from '../harness/ports.ts';
import { startTessera, type TesseraHandle } from '../harness/tessera.ts';

describe('authenticator wake-up: the service worker shows a notification on push', () => {
  let node: TesseraHandle;
  let phone: TestBrowser;
  let app: Page;
  let base = '';

  beforeAll(async () => {
    // a service worker needs a secure context: localhost is one
    const port = await freePort();
    base = `http://localhost:${port}`;
    node = await startTessera({ port });
    phone = await launchBrowser({ viewport: { width: 390, height: 844 }, permissions: ['notifications'] });
    app = await phone.context.newPage();
  });

  afterAll(async () => {
    await phone?.close();
    await node?.stop();
  });

  test('a push message becomes a notification; the secret-looking payload stays out of it', async () => {
    const problems: string[] = [];
    app.on('pageerror', (e) => problems.push(e.message));
    const cdp = await phone.context.newCDPSession(app);
    const registered = new Promise<string>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
        const ours = registrations.find((r) => r.scopeURL === `${base}/authenticator/` && !r.isDeleted);
        if (ours) resolve(ours.registrationId);
      });
    });
    await cdp.send('ServiceWorker.enable');
    await app.goto(`${base}/authenticator/`);
    await app.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    const registrationId = await registered;
    // even a message with a code in it (never sent by Tessera) does not reach the notification text
    const deliver = () =>
      cdp.send('ServiceWorker.deliverPushMessage', {
        origin: base,
        registrationId,
        data: JSON.stringify({ type: 'push', id: 'abc123', code: '424242' }),
      });
    let shown: { title: string; body: string; tag: string }[] = [];
    // A push service redelivers a message the worker did not take (on a loaded machine a worker
    // still starting can miss it): up to three deliveries, 10 s each. One tag, so they never stack.
    for (let attempt = 0; attempt < 3 && shown.length === 0; attempt++) {
      await deliver();
      for (let i = 0; i < 100 && shown.length === 0; i++) {
        shown = await app.evaluate(async () => {
          const reg = await navigator.serviceWorker.ready;
          return (await reg.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag }));
        });
        if (shown.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.equal(shown.length, 1, 'one notification is shown');
    assert.equal(shown[0]!.title, 'Sign-in request');
    assert.match(shown[0]!.body, /sign-in waits/);
    assert.equal(shown[0]!.tag, 'push-abc123', 'one notification per push: a retry does not stack');
    assert.ok(!JSON.stringify(shown).includes('424242'));
    // the unpaired app loaded without errors, with the wake-up code in it
    assert.deepEqual(problems, []);
    assert.equal((await app.request.get(`${base}/authenticator/webpush.js`)).status(), 200);
  });
});
