// Headless Debian Chromium through playwright-core (no downloaded browsers), with the flags this
// machine needs (see shared NOTES: closed network, root, no GPU).

import { chromium } from 'playwright-core';
import fs from 'node:fs';

export const CHROMIUM = process.env.PARLA_CHROMIUM || '/usr/bin/chromium';

const OPTIONS = {
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
};

function found() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set PARLA_CHROMIUM)`);
}

/** A browser whose contexts keep nothing on disk (like private windows). */
export async function launch() {
  found();
  return chromium.launch(OPTIONS);
}

/** A browser context on the profile in `dir`, which keeps its caches there as a user's does. */
export async function launchWithProfile(dir) {
  found();
  return chromium.launchPersistentContext(dir, OPTIONS);
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
