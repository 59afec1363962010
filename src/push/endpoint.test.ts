import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { DEFAULT_WEBPUSH_HOSTS, isWebPushHostPattern, webPushEndpointAllowed } from './endpoint.ts';

describe('Web Push endpoints a phone may name', () => {
  test("the browsers' push services are allowed by default", () => {
    for (const endpoint of [
      'https://fcm.googleapis.com/fcm/send/abc:def',
      'https://updates.push.services.mozilla.com/wpush/v2/gAAAA',
      'https://web.push.apple.com/QGuQyavXutnMJLxHmJ6zH',
      'https://wns2-par02p.notify.windows.com/w/?token=BQYAAA',
    ])
      assert.equal(webPushEndpointAllowed(endpoint, DEFAULT_WEBPUSH_HOSTS), true, endpoint);
  });

  test('internal addresses, look-alike hosts, plain http and credentials are refused', () => {
    for (const endpoint of [
      'https://169.254.169.254/latest/meta-data/',
      'https://127.0.0.1:8443/v1/admin/users',
      'https://10.0.0.5/',
      'https://[::1]/',
      'https://localhost/',
      'https://fcm.googleapis.com.evil.example/fcm/send/x',
      'https://evilfcm.googleapis.com/x',
      'https://notify.windows.com/',
      'https://evil.example/?fcm.googleapis.com',
      'http://fcm.googleapis.com/fcm/send/x',
      'https://user:pw@fcm.googleapis.com/fcm/send/x',
      'not a url',
    ])
      assert.equal(webPushEndpointAllowed(endpoint, DEFAULT_WEBPUSH_HOSTS), false, endpoint);
  });

  test('a configured list replaces the default; http only where allowed', () => {
    assert.equal(webPushEndpointAllowed('https://push.corp.example/x', ['push.corp.example']), true);
    assert.equal(webPushEndpointAllowed('https://fcm.googleapis.com/x', ['push.corp.example']), false);
    assert.equal(webPushEndpointAllowed('http://127.0.0.1:9/x', ['127.0.0.1']), false);
    assert.equal(webPushEndpointAllowed('http://127.0.0.1:9/x', ['127.0.0.1'], true), true);
    assert.equal(webPushEndpointAllowed('https://A.Push.Corp.Example/x', ['*.push.corp.example']), true);
  });

  test('host patterns: names, *.names and bracketed IPv6; nothing else', () => {
    for (const ok of ['fcm.googleapis.com', '*.notify.windows.com', '127.0.0.1', '[::1]'])
      assert.equal(isWebPushHostPattern(ok), true, ok);
    for (const bad of ['', '*', '*.', 'https://fcm.googleapis.com', 'a b', 'host/path', '.example'])
      assert.equal(isWebPushHostPattern(bad), false, bad);
  });
});
