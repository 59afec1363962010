import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { ensureDebianPackages } from './debian.ts';

/** Debian's Chromium: no browser download is possible here. */
export const CHROMIUM = '/usr/bin/chromium';

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Starts Debian's Chromium headless in a throw-away profile, with nothing that phones home
 * (every page a test opens is on loopback).
 */
export async function launchBrowser(options: BrowserContextOptions = {}): Promise<TestBrowser> {
  ensureDebianPackages(['chromium']);
  const profileDir = mkdtempSync(join(tmpdir(), 'tessera-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    ...options,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  // Playwright's own default is 30 s; a minute leaves room on a loaded machine. It bounds waits
  // for elements and navigations only: newPage, clearCookies and close have no timeout (see within).
  context.setDefaultTimeout(60_000);
  context.setDefaultNavigationTimeout(60_000);
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

/**
 * `work`, or an error naming `what` after `ms`: for the browser calls Playwright leaves without a
 * timeout (newPage, clearCookies, close), so that a stuck one fails its test by name instead of
 * holding it until the test's own timeout.
 */
export async function within<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** axe-core's serious and critical findings on the page as it is now: an empty list passes. */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
