import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Fastify from 'fastify';
import { describe, test } from 'vitest';
import { base32Encode, type OtpAlgorithm, totpAt } from '../../src/otp/index.ts';
import { authenticatorPlugin } from './index.ts';

interface TotpModule {
  importTotpKey(secret: string, algorithm: string): Promise<CryptoKey>;
  codeAt(key: CryptoKey, digits: number, step: number): Promise<string>;
}
interface DeviceModule {
  pairingTokenOf(text: string): { token: string; url: string | null } | null;
}

// The app's own modules are plain browser JavaScript; Node's WebCrypto runs them as they are.
const load = async <T>(name: string): Promise<T> =>
  (await import(join(import.meta.dirname, 'static', name))) as T;

describe('authenticator app files', () => {
  test('served under a strict CSP: own scripts only, no inline code, no other origin', async () => {
    const app = Fastify();
    await app.register(authenticatorPlugin, { prefix: '/authenticator' });
    const page = await app.inject('/authenticator/');
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    const csp = page.headers['content-security-policy'] as string;
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    assert.doesNotMatch(page.body, /<script(?![^>]*\bsrc=)/, 'no inline script');
    assert.doesNotMatch(page.body, /style=/, 'no inline style');
    assert.equal(page.headers['cache-control'], 'no-cache');

    const manifest = await app.inject('/authenticator/manifest.webmanifest');
    assert.equal(manifest.headers['content-type'], 'application/manifest+json');
    const m = JSON.parse(manifest.body);
    assert.equal(m.start_url, '/authenticator/');
    assert.equal(m.display, 'standalone');
    for (const icon of m.icons) {
      const reply = await app.inject(icon.src);
      assert.equal(reply.statusCode, 200, icon.src);
      assert.equal(reply.headers['content-type'], 'image/svg+xml');
    }
    const worker = await app.inject('/authenticator/sw.js');
    assert.match(worker.headers['content-type'] as string, /javascript/);
    // every file the service worker keeps for offline use exists
    const shell = JSON.parse(
      /const SHELL = (\[[^\]]*\])/
        .exec(worker.body)![1]!
        .replace(/'/g, '"')
        .replace(/,\s*\]/, ']'),
    );
    for (const path of shell as string[]) assert.equal((await app.inject(path)).statusCode, 200, path);

    assert.equal((await app.inject('/authenticator/../index.ts')).statusCode, 404);
    assert.equal((await app.inject('/authenticator/authenticator.test.ts')).statusCode, 404);
    assert.equal((await app.inject('/authenticator/nothing.js')).statusCode, 404);
    await app.close();
  });

  test('its TOTP codes are the server’s, for every algorithm and length', async () => {
    const { importTotpKey, codeAt } = await load<TotpModule>('totp.js');
    for (const [algorithm, bytes] of [
      ['SHA1', 20],
      ['SHA256', 32],
      ['SHA512', 64],
    ] as const) {
      const secret = randomBytes(bytes);
      const key = await importTotpKey(base32Encode(secret), algorithm);
      for (const digits of [6, 8] as const) {
        for (const step of [0, 1, 59_000_000, 2 ** 33]) {
          const expected = totpAt({ secret, algorithm: algorithm as OtpAlgorithm, digits, period: 30 }, step);
          assert.equal(await codeAt(key, digits, step), expected, `${algorithm}/${digits}/${step}`);
        }
      }
    }
    await assert.rejects(importTotpKey('not base32!', 'SHA1'));
    await assert.rejects(importTotpKey('AAAA', 'SHA1'), 'too short a secret');
  });

  test('reads the pairing token from a link, a QR text or the token alone, and nothing else', async () => {
    const { pairingTokenOf } = await load<DeviceModule>('device.js');
    const token = 'aB3_-'.repeat(9);
    assert.deepEqual(pairingTokenOf(`https://mfa.example/authenticator/#pair=${token}`), {
      token,
      url: null,
    });
    assert.deepEqual(
      pairingTokenOf(`tessera-pair://?url=${encodeURIComponent('https://mfa.example')}&token=${token}`),
      { token, url: 'https://mfa.example' },
    );
    assert.deepEqual(pairingTokenOf(` ${token}\n`), { token, url: null });
    assert.equal(pairingTokenOf('https://mfa.example/authenticator/'), null);
    assert.equal(pairingTokenOf('tessera-pair://?token=<script>'), null);
    assert.equal(pairingTokenOf('short'), null);
  });
});
