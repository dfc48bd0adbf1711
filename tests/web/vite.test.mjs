// The npm package as a user gets it, bundled by Vite: `npm pack` of www/, unpacked into a small
// app's node_modules, `vite build` with no configuration, and the built page (served cross-origin
// isolated) speaks in headless Chromium; so does the same app from Vite's dev server, which
// pre-bundles the package. This is what breaks when a file is missing from the
// package's `files`, or when a worker, the worklet or the wasm is referenced in a way a bundler
// does not follow. The page speaks as soon as the voice is ready, as a page that awaits
// createParla and speaks does: that first speech must play without a gap.
//
// Needs `just web` (www/pkg) and the default voice (`just voice`). Run: `just test-web`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build, createServer } from 'vite';
import { startServer, ROOT } from './serve.mjs';
import { launch } from './browser.mjs';

const SENTENCE = 'Hello from a page that Vite built.';

// The app: an HTML page and a module that imports the package by its name, as a user writes it.
const INDEX_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>parla in a Vite build</title></head>
<body><script type="module" src="./main.js"></script></body></html>
`;
const MAIN_JS = `import { createParla } from 'parla';
window.outcome = (async () => {
  const tts = await createParla({ voice: '/voices/en_US-joe-medium.onnx' });
  const result = await tts.speak(${JSON.stringify(SENTENCE)}).done;
  return { result, metrics: tts.metrics(), isolated: crossOriginIsolated };
})().catch((e) => ({ error: String((e && e.stack) || e) }));
`;

const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/** A Vite plugin that serves models/voices/ at /voices/ (the app has no voices of its own). */
const voices = {
  name: 'parla-test-voices',
  configureServer(dev) {
    const dir = path.join(ROOT, 'models/voices');
    dev.middlewares.use('/voices', (req, res, next) => {
      const file = path.join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname));
      if (!file.startsWith(dir + path.sep) || !fs.existsSync(file)) return next();
      res.writeHead(200, { ...ISOLATION, 'content-type': 'application/octet-stream' });
      fs.createReadStream(file).pipe(res);
    });
  },
};

let tmp, app, dist, server, browser;

before(async () => {
  for (const f of ['www/pkg/parla_web_bg.wasm', 'models/voices/en_US-joe-medium.onnx']) {
    assert.ok(fs.existsSync(path.join(ROOT, f)), `${f} is missing: run \`just web\` and \`just voice\``);
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parla-vite-'));
  app = path.join(tmp, 'app');
  const installed = path.join(app, 'node_modules/parla');
  fs.mkdirSync(installed, { recursive: true });
  // What `npm install parla` would unpack: the package's `files` only.
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: path.join(ROOT, 'www'), stdio: ['ignore', 'pipe', 'ignore'] }));
  execFileSync('tar', ['-xzf', path.join(tmp, packed.filename), '-C', installed, '--strip-components=1']);
  fs.writeFileSync(path.join(app, 'index.html'), INDEX_HTML);
  fs.writeFileSync(path.join(app, 'main.js'), MAIN_JS);
  dist = path.join(tmp, 'dist');
  await build({ root: app, configFile: false, logLevel: 'warn', build: { outDir: dist, emptyOutDir: true } });
  server = await startServer({ isolate: true, root: dist });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('vite build puts the worker, the worklet and the wasm beside the page', () => {
  const assets = fs.readdirSync(path.join(dist, 'assets'));
  const sizes = Object.fromEntries(assets.map((f) => [f, fs.statSync(path.join(dist, 'assets', f)).size]));
  const wasm = assets.filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `one wasm module among ${assets.join(', ')}`);
  assert.equal(sizes[wasm[0]], fs.statSync(path.join(ROOT, 'www/pkg/parla_web_bg.wasm')).size, 'the wasm is copied whole');
  for (const name of ['worker', 'encoder-worker', 'worklet']) {
    assert.ok(assets.some((f) => f.startsWith(`${name}-`) && f.endsWith('.js')), `${name} in ${assets.join(', ')}`);
  }
});

/** Opens the app's page at `url` and checks that it spoke as soon as its voice was ready. */
async function speaksAtOnce(url) {
  const page = await browser.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.outcome !== undefined, null, { timeout: 30_000 });
  const outcome = await page.evaluate(() => window.outcome);
  assert.equal(outcome.error, undefined, `${outcome.error}\n${logs.join('\n')}`);
  assert.equal(outcome.isolated, true);
  assert.equal(outcome.result.cancelled, false);
  assert.ok(outcome.result.peak > 0.05, `peak ${outcome.result.peak}`);
  assert.ok(outcome.result.rendered > 44100, `rendered ${outcome.result.rendered} samples`);
  assert.equal(outcome.metrics.engine, 'wasm');
  // The speech came right after loading, before the engine's code was optimised.
  assert.equal(outcome.metrics.underruns, 0, `a first speech right after loading plays without a gap: ${JSON.stringify(outcome.metrics)}`);
  assert.equal(typeof outcome.metrics.encoderLoadMs, 'number', `the encoder worker was used: ${JSON.stringify(outcome.metrics)}`);
  await page.close();
}

test('the page Vite built speaks at once after loading, through its worker and worklet, without a gap', async () => {
  await speaksAtOnce(`${server.url}/index.html`);
});

test("the same app from Vite's dev server, with no configuration, speaks", async () => {
  const dev = await createServer({ root: app, configFile: false, logLevel: 'warn', server: { host: '127.0.0.1', port: 0, headers: ISOLATION }, plugins: [voices] });
  try {
    await dev.listen();
    await speaksAtOnce(dev.resolvedUrls.local[0]);
  } finally {
    await dev.close();
  }
});
