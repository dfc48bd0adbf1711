// Headless Debian Chromium through playwright-core (no downloaded browsers), with the flags this
// machine needs (see shared NOTES: closed network, root, no GPU).

import { chromium } from 'playwright-core';
import fs from 'node:fs';

export const CHROMIUM = process.env.PARLA_CHROMIUM || '/usr/bin/chromium';

export async function launch() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set PARLA_CHROMIUM)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** Opens the demo at `url` and waits until its voice is ready or it shows an error. */
export async function openDemo(context, url, { timeout = 120_000 } = {}) {
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  page.logs = logs;
  await page.goto(url);
  await page.waitForFunction(() => window.parlaDemo && (window.parlaDemo.tts || window.parlaDemo.error), null, { timeout });
  return page;
}
