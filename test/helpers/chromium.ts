// Debian's Chromium for the UI tests and bench/ui, driven by playwright-core: the flags CI uses and
// a fresh profile each time, removed with the browser.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A headless browser with a fresh profile at 1280 × 900; always closed, the profile removed. */
export async function withChromium<T>(
  fn: (context: BrowserContext) => Promise<T>,
  options: { ignoreHTTPSErrors?: boolean } = {},
): Promise<T> {
  assert.ok(existsSync(CHROMIUM), 'Debian chromium is installed by .ci/run');
  const profile = await mkdtemp(join(tmpdir(), 'gatepass-chromium-'));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      timeout: 30_000,
      args: CHROMIUM_ARGS,
      ...options,
    });
    return await fn(context);
  } finally {
    await context?.close();
    await rm(profile, { recursive: true, force: true });
  }
}
