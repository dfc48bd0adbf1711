// The parla browser package end to end, in headless Chromium: the demo speaks and the worklet
// renders audible audio; word boundaries arrive in order on the audio clock; cancel silences
// within 100 ms; streaming text (also text that stalls mid-clause) and synthesize() work; without
// cross-origin isolation the MessagePort fallback is used; a corrupt or unreachable voice is a
// clear error in the page; the server engine plays a WebSocket stream (from serve.mjs's stand-in
// for the native server).
//
// Needs `just web` (www/pkg) and the default voice (`just voice`). Run: `just test-web`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, ROOT } from './serve.mjs';
import { launch, openDemo } from './browser.mjs';
import { startParlaServe } from './parla_serve.mjs';

const SENTENCE = 'Hello there. This is Parla, speaking in a browser.';
const LONG = 'This is a long sentence that keeps on going, so that there is plenty of audio still to come when it is cancelled, and it goes on for quite a while longer after that.';

let isolated, plain, parla, browser, context;

before(async () => {
  for (const f of ['www/pkg/parla_web_bg.wasm', 'models/voices/en_US-joe-medium.onnx']) {
    assert.ok(fs.existsSync(path.join(ROOT, f)), `${f} is missing: run \`just web\` and \`just voice\``);
  }
  isolated = await startServer({ isolate: true });
  plain = await startServer({ isolate: false });
  parla = await startParlaServe();
  browser = await launch();
  context = await browser.newContext();
});

after(async () => {
  await browser?.close();
  await isolated?.close();
  await plain?.close();
  await parla?.close();
});

/** Speaks `text` in the page through the demo's tts; returns what the handle reported. */
function speakInPage(page, text) {
  return page.evaluate(async (text) => {
    const tts = window.parlaDemo.tts;
    const h = tts.speak(text);
    const boundaries = [];
    let started = null;
    h.on('start', () => (started = performance.now()));
    h.on('boundary', (b) => boundaries.push(b));
    const result = await h.done;
    return { result, boundaries, started: started !== null, metrics: tts.metrics() };
  }, text);
}

test('the demo speaks a sentence through the SharedArrayBuffer ring and the worklet renders it', async () => {
  const page = await openDemo(context, `${isolated.url}/demo/`);
  assert.equal(await page.evaluate(() => window.parlaDemo.error), null, page.logs.join('\n'));
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  await page.fill('#text', SENTENCE);
  await page.click('#speak');
  await page.waitForFunction(() => window.parlaDemo.handle && ['ended', 'failed'].includes(window.parlaDemo.handle.state), null, { timeout: 60_000 });
  const { state, result, words } = await page.evaluate(async () => {
    const h = window.parlaDemo.handle;
    return { state: h.state, result: await h.done, words: window.parlaDemo.boundaries.filter((b) => b.name === 'word') };
  });
  assert.equal(state, 'ended');
  assert.ok(result.peak > 0.05, `peak ${result.peak}`);
  assert.ok(result.rms > 0.01, `rms ${result.rms}`);
  assert.ok(result.rendered > 2 * 44100, `rendered ${result.rendered} samples`);
  assert.deepEqual(words.map((w) => w.text), ['Hello', 'there', 'This', 'is', 'Parla', 'speaking', 'in', 'a', 'browser']);
  for (let i = 1; i < words.length; i++) {
    assert.ok(words[i].sample >= words[i - 1].sample, 'in order on the audio clock');
    assert.ok(words[i].charIndex > words[i - 1].charIndex, 'in order in the text');
  }
  assert.equal(SENTENCE.slice(words[4].charIndex, words[4].charIndex + words[4].charLength), 'Parla');
  const metrics = JSON.parse(await page.textContent('#metrics'));
  assert.equal(metrics.engine, 'wasm');
  for (const k of ['ttfa_ms', 'rtf', 'underruns']) assert.equal(typeof metrics[k], 'number', `${k} in ${JSON.stringify(metrics)}`);
  assert.equal(typeof metrics.encoder_worker_ms, 'number', `the encoder was prepared in its own worker: ${JSON.stringify(metrics)}`);
  assert.equal(await page.textContent('#error'), '');
  await page.close();
});

test('boundaries fire when their audio plays, in order, and speech streams in while text arrives', async () => {
  const page = await openDemo(context, `${isolated.url}/demo/`);
  const r = await page.evaluate(async () => {
    const tts = window.parlaDemo.tts;
    const s = tts.stream();
    const seen = [];
    s.on('boundary', (b) => seen.push({ name: b.name, text: b.text, sample: b.sample, at: performance.now(), played: s.reached }));
    const underrunsBefore = (await tts.workletStats()).underruns;
    let first = null;
    s.on('start', () => (first = performance.now()));
    const t0 = performance.now();
    for (const piece of ['Tokens ', 'arrive ', 'one ', 'by ', 'one, ', 'and ', 'the ', 'speech ', 'keeps ', 'up.']) {
      s.write(piece);
      await new Promise((r) => setTimeout(r, 40));
    }
    const result = await s.end();
    const underruns = (await tts.workletStats()).underruns - underrunsBefore;
    return { seen, result, underruns, startedMs: first - t0, totalMs: performance.now() - t0 };
  });
  const words = r.seen.filter((b) => b.name === 'word');
  assert.deepEqual(words.map((w) => w.text), ['Tokens', 'arrive', 'one', 'by', 'one', 'and', 'the', 'speech', 'keeps', 'up']);
  for (let i = 1; i < words.length; i++) assert.ok(words[i].sample > words[i - 1].sample && words[i].at >= words[i - 1].at);
  // Fired by the worklet's position: each word once its first sample was rendered, not before.
  for (const w of words) assert.ok(w.played >= w.sample, `${w.text} fired at sample ${w.played} < ${w.sample}`);
  if (r.underruns === 0) {
    // On the audio clock: the last word comes its audio offset after the first.
    const audioSpan = (words.at(-1).sample - words[0].sample) / 22050;
    const wallSpan = (words.at(-1).at - words[0].at) / 1000;
    assert.ok(Math.abs(wallSpan - audioSpan) < 0.3, `words span ${wallSpan} s on the wall clock, ${audioSpan} s of audio`);
  }
  assert.ok(r.startedMs < r.totalMs, `the first clause plays before the stream ends (${r.startedMs} ms)`);
  assert.ok(r.result.peak > 0.05);
  await page.close();
});

test('a stream whose text stalls mid-clause is heard while it waits for more', async () => {
  const page = await openDemo(context, `${isolated.url}/demo/`);
  const r = await page.evaluate(async () => {
    const tts = window.parlaDemo.tts;
    const s = tts.stream();
    const words = [];
    s.on('boundary', (b) => b.name === 'word' && words.push(b.text));
    let started = null;
    s.on('start', () => (started = performance.now()));
    for (const piece of ['Let ', 'me ', 'look ', 'that ', 'up']) {
      s.write(piece);
      await new Promise((r) => setTimeout(r, 40));
    }
    // Then nothing for three seconds, as from an LLM calling a tool.
    const stalled = performance.now();
    await new Promise((r) => setTimeout(r, 3000));
    const heard = words.slice();
    s.write(' for you.');
    const result = await s.end();
    return { heard, words, startedAfterMs: started === null ? null : started - stalled, result };
  });
  assert.notEqual(r.startedAfterMs, null, 'nothing was heard while the text stalled');
  assert.ok(r.startedAfterMs > 200, `spoken ${r.startedAfterMs} ms into the stall: the text was still flowing then`);
  assert.deepEqual(r.heard, ['Let', 'me', 'look', 'that', 'up']);
  assert.deepEqual(r.words, ['Let', 'me', 'look', 'that', 'up', 'for', 'you']);
  assert.ok(r.result.peak > 0.05);
  await page.close();
});

test('cancel silences the worklet within 100 ms', async () => {
  const page = await openDemo(context, `${isolated.url}/demo/`);
  const r = await page.evaluate(async (text) => {
    const tts = window.parlaDemo.tts;
    const h = tts.speak(text);
    await new Promise((resolve) => h.on('start', resolve));
    await new Promise((r) => setTimeout(r, 600));
    const before = await tts.workletStats();
    const t = tts.context.currentTime;
    const state = h.state;
    h.cancel();
    const result = await h.done;
    await new Promise((r) => setTimeout(r, 400));
    const stats = await tts.workletStats();
    return { state, before, cancelledAt: t, lastAudible: stats.lastAudibleTime, now: stats.time, result };
  }, LONG);
  assert.equal(r.state, 'playing');
  assert.ok(r.before.lastAudibleTime > r.cancelledAt - 0.5, 'it was playing just before the cancel');
  assert.equal(r.result.cancelled, true);
  const tail = r.lastAudible - r.cancelledAt;
  assert.ok(tail < 0.1, `audible ${(tail * 1000).toFixed(1)} ms after cancel`);
  // And the next speech still plays.
  const again = await speakInPage(page, 'Still here.');
  assert.ok(again.result.peak > 0.05);
  await page.close();
});

test('synthesize() returns PCM and a WAV blob without playing', async () => {
  const page = await openDemo(context, `${isolated.url}/demo/`);
  const r = await page.evaluate(async () => {
    const pcm = await window.parlaDemo.tts.synthesize('Just the samples, please.');
    const wav = pcm.toWav();
    const head = new TextDecoder().decode(new Uint8Array(await wav.slice(0, 4).arrayBuffer()));
    let peak = 0;
    for (const s of pcm.samples) peak = Math.max(peak, Math.abs(s));
    return { n: pcm.samples.length, rate: pcm.sampleRate, size: wav.size, head, type: wav.type, peak, words: pcm.events.filter((e) => e.type === 'word').length };
  });
  assert.equal(r.rate, 22050);
  assert.ok(r.n > 22050 && r.n < 22050 * 4, `${r.n} samples`);
  assert.equal(r.size, 44 + 2 * r.n);
  assert.equal(r.head, 'RIFF');
  assert.equal(r.type, 'audio/wav');
  assert.ok(r.peak > 0.05);
  assert.equal(r.words, 4);
  await page.close();
});

test('without cross-origin isolation the MessagePort fallback plays', async () => {
  const page = await openDemo(context, `${plain.url}/demo/`);
  assert.equal(await page.evaluate(() => window.parlaDemo.error), null, page.logs.join('\n'));
  assert.equal(await page.evaluate(() => crossOriginIsolated), false);
  const r = await speakInPage(page, SENTENCE);
  assert.equal(r.metrics.engine, 'wasm-messageport');
  assert.equal(r.metrics.encoderLoadMs, null, 'one worker: no shared memory for the link');
  assert.ok(r.started);
  assert.ok(r.result.peak > 0.05, `peak ${r.result.peak}`);
  assert.equal(r.boundaries.filter((b) => b.name === 'word').length, 9);
  assert.equal(JSON.parse(await page.textContent('#metrics')).engine, 'wasm-messageport');
  await page.close();
});

test('a corrupt voice is a clear error in the page', async () => {
  const page = await openDemo(context, `${isolated.url}/demo/?voice=/voices/corrupt.onnx`);
  const error = await page.textContent('#error');
  assert.match(error, /voice file is not a Piper model: /, error);
  assert.equal(await page.isDisabled('#speak'), true);
  await page.close();
});

test('an unreachable voice is a clear error in the page', async () => {
  const page = await openDemo(context, `${isolated.url}/demo/?voice=/voices/nowhere.onnx`);
  const error = await page.textContent('#error');
  assert.match(error, /cannot fetch the voice (model|config) .*nowhere\.onnx.*HTTP 404/, error);
  await page.close();
});

test('the server engine plays a WebSocket /v1/stream (stand-in server)', async () => {
  const page = await openDemo(context, `${isolated.url}/demo/?engine=server`);
  assert.equal(await page.evaluate(() => window.parlaDemo.error), null, page.logs.join('\n'));
  const r = await speakInPage(page, 'One two three four.');
  assert.equal(r.metrics.engine, 'server');
  assert.ok(r.started);
  assert.ok(r.result.peak > 0.1 && r.result.peak < 0.5, `peak ${r.result.peak}`);
  assert.ok(r.result.rendered > 0.9 * 44100, `rendered ${r.result.rendered}`);
  assert.deepEqual(r.boundaries.map((b) => [b.name, b.text]), [['sentence', 'One two three four.']]);
  await page.close();
});

test('parla serve serves the demo, which speaks through the worklet', async () => {
  const page = await openDemo(context, `${parla.url}/`);
  assert.equal(await page.evaluate(() => window.parlaDemo.error), null, page.logs.join('\n'));
  assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'parla serve sends COOP/COEP');
  const r = await speakInPage(page, SENTENCE);
  assert.equal(r.metrics.engine, 'wasm');
  assert.ok(r.started);
  assert.ok(r.result.peak > 0.05, `peak ${r.result.peak}`);
  await page.close();
});

test('the server engine speaks through parla serve\'s real WebSocket /v1/stream', async () => {
  const page = await openDemo(context, `${parla.url}/demo/?engine=server`);
  assert.equal(await page.evaluate(() => window.parlaDemo.error), null, page.logs.join('\n'));
  const r = await speakInPage(page, 'One two three four.');
  assert.equal(r.metrics.engine, 'server');
  assert.ok(r.started);
  assert.ok(r.result.peak > 0.05, `peak ${r.result.peak}`);
  await page.close();
});
