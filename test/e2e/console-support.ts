// What the console's browser tests share: signing in as a person does, reading a QR code out of
// the page's SVG, the axe check, and screenshots for the docs.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsQRModule from 'jsqr';
import type { Locator, Page } from 'playwright-core';
import { base32Decode, timeStep, totpAt } from '../../src/otp/index.ts';
import { accessibilityProblems } from '../harness/browser.ts';
import { REPO_ROOT } from '../harness/tessera.ts';

// jsqr is CommonJS with an ES-style default in its types: under Node's ESM the function is the
// module's `default` property.
type JsQr = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;
const jsQR: JsQr = (jsQRModule as unknown as { default?: JsQr }).default ?? (jsQRModule as unknown as JsQr);

/**
 * Decodes a QR code drawn by the `qrcode` package as SVG: its dark modules are one path of
 * horizontal runs (`M x y` starts a row, `m dx dy` skips, `h n` draws n modules). The modules are
 * painted into a bitmap and read back with jsQR, as a phone's camera would read the screen.
 */
export function decodeQrSvg(svg: string): string {
  const viewBox = /viewBox="0 0 (\d+) (\d+)"/.exec(svg);
  const path =
    /<path[^>]*stroke="#000000"[^>]*d="([^"]+)"/.exec(svg) ?? /<path[^>]*d="([^"]+)"[^>]*stroke=/.exec(svg);
  assert.ok(viewBox && path, 'the page holds an SVG QR code');
  const size = Number(viewBox[1]);
  const scale = 6;
  const w = size * scale;
  const rgba = new Uint8ClampedArray(w * w * 4).fill(255);
  let x = 0;
  let y = 0;
  for (const [, cmd, args] of path[1]!.matchAll(/([MmHh])([^MmHh]+)/g)) {
    const n = args!
      .trim()
      .split(/[\s,]+/)
      .map(Number);
    if (cmd === 'M') [x, y] = [n[0]!, Math.floor(n[1]!)];
    else if (cmd === 'm') [x, y] = [x + n[0]!, y + Math.floor(n[1]!)];
    else if (cmd === 'h') {
      for (let col = x; col < x + n[0]!; col++)
        for (let dy = 0; dy < scale; dy++)
          for (let dx = 0; dx < scale; dx++) {
            const i = ((y * scale + dy) * w + col * scale + dx) * 4;
            rgba[i] = rgba[i + 1] = rgba[i + 2] = 0;
          }
      x += n[0]!;
    }
  }
  const code = jsQR(rgba, w, w);
  assert.ok(code, 'jsQR read the QR code');
  return code.data;
}

/** The base32 seed of an otpauth URI. */
export function secretOf(uri: string): string {
  const secret = new URL(uri).searchParams.get('secret');
  assert.ok(secret, `the URI carries a secret: ${uri.replace(/secret=[^&]+/, 'secret=…')}`);
  return secret;
}

const lastStep = new Map<string, number>();

/**
 * A code of the seed that the server has not seen yet: a code is good once, so a second sign-in
 * of the same account waits for the next 30-second step (and one with little time left too).
 */
export async function freshCode(secret: string): Promise<string> {
  for (;;) {
    const now = Date.now();
    const step = timeStep(now, 30);
    const left = 30_000 - (now % 30_000);
    if (step > (lastStep.get(secret) ?? -1) && left > 4000) {
      lastStep.set(secret, step);
      return totpAt({ secret: base32Decode(secret)!, algorithm: 'SHA1', digits: 6, period: 30 }, step);
    }
    await new Promise((r) => setTimeout(r, Math.min(left + 100, 1000)));
  }
}

export async function assertAccessible(page: Page): Promise<void> {
  assert.deepEqual(await accessibilityProblems(page), [], `axe findings on ${page.url()}`);
}

/**
 * A full-page screenshot: into docs/screenshots (the README's pictures) with
 * TESSERA_UPDATE_SCREENSHOTS=1, otherwise into the temporary folder, so a test run leaves the
 * work tree as it found it.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.TESSERA_UPDATE_SCREENSHOTS
    ? join(REPO_ROOT, 'docs/screenshots')
    : join(tmpdir(), 'tessera-screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** Password, then the code (or, at the first sign-in, the enrolment): returns the account's seed. */
export async function signIn(
  page: Page,
  base: string,
  username: string,
  password: string,
  secret?: string,
): Promise<string> {
  await page.goto(`${base}/ui/signin`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
  let seed = secret;
  if (!seed) {
    await page.waitForURL(/\/ui\/signin\/enrol$/);
    const svg = await page.locator('svg.qr').evaluate((e) => e.outerHTML);
    seed = secretOf(decodeQrSvg(svg));
    assert.equal(seed, (await page.locator('#totp-secret').textContent())?.trim());
    await page.getByLabel('Code from the app').fill(await freshCode(seed));
    await page.getByRole('button', { name: 'Confirm and sign in' }).click();
  } else {
    await page.waitForURL(/\/ui\/signin\/code$/);
    await page.getByLabel('Code').fill(await freshCode(seed));
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await page.waitForURL(new RegExp(`${base.replace(/[.:/]/g, '\\$&')}/ui/$`));
  return seed;
}

/**
 * Submits a console form and waits for its own notice. Forms are boosted (the answer is swapped
 * into the page, no new page loads), and the page may still show the previous save's notice in
 * the same words: that one is taken away first, so only this save's answer can satisfy the wait.
 */
export async function submitAndSee(page: Page, button: Locator, notice: string): Promise<void> {
  await page.locator('p.flash').evaluateAll((shown) => {
    for (const el of shown) el.remove();
  });
  await button.click();
  await page.getByText(notice).waitFor();
}
