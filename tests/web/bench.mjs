// The browser package's figures, from headless Chromium on a cross-origin isolated page:
// speak() → first audible sample rendered by the worklet (p50/p95 after warm-up; target ≤ 50 ms
// p95), browser RTF (whole text, and streaming), wasm size (raw and gzip), voice bytes → ready
// (target ≤ 0.5 s; with the encoder in its own worker, against one worker in the same run; also on
// a page's first load, and for a returning visitor whose browser kept the engine's optimised
// code). One line per figure.
//
//   node tests/web/bench.mjs [--runs 20] [--engine wasm|wasm-messageport] [--chunk first,size,context (default: the package's)]

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import os from 'node:os';
import { startServer, ROOT } from './serve.mjs';
import { launch, launchWithProfile, openDemo } from './browser.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const RUNS = Number(opt('--runs', 20));
const WARMUP = 3;
const ENGINE = opt('--engine', 'wasm');
const CHUNK = opt('--chunk', null)?.split(',').map(Number);
const chunk = CHUNK ? { first: CHUNK[0], size: CHUNK[1], context: CHUNK[2] } : {};
const FIRST = 'Hello there, how are you today?';
const PARAGRAPH =
  'The quick brown fox jumps over the lazy dog. Parla speaks offline, in the browser, one chunk at a time. ' +
  'Every word is placed on the audio clock, so a page can follow along as it is heard.';

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const f = (x, d = 1) => (x === null || x === undefined ? 'n/a' : x.toFixed(d));

const wasm = path.join(ROOT, 'www/pkg/parla_web_bg.wasm');
if (!fs.existsSync(wasm)) throw new Error('www/pkg is missing: run `just web`');
const raw = fs.readFileSync(wasm);
const gz = zlib.gzipSync(raw, { level: 9 });
console.log(`web wasm_size_mb raw=${f(raw.length / 1e6, 2)} gzip=${f(gz.length / 1e6, 2)}`);

// The engine's memory after loading the default voice, one instance of the module per worker
// (in Node: the same module, and WebAssembly memory never shrinks, so this is what a page keeps).
{
  const voiceDir = path.join(ROOT, 'models/voices/en_US-joe-medium.onnx');
  const onnx = fs.readFileSync(voiceDir);
  const json = fs.readFileSync(`${voiceDir}.json`);
  const instance = async (tag) => {
    const glue = await import(`${path.join(ROOT, 'www/pkg/parla_web.js')}?${tag}`);
    const exports = glue.initSync({ module: raw });
    return { glue, mb: () => exports.memory.buffer.byteLength / 1e6 };
  };
  const whole = await instance('whole');
  whole.glue.Voice.load(new Uint8Array(onnx), new Uint8Array(json)).prepare();
  const [enc, dec] = [await instance('encoder'), await instance('decoder')];
  const encoder = enc.glue.Encoder.load(new Uint8Array(onnx), new Uint8Array(json));
  const linked = dec.glue.Voice.loadDecoder(new Uint8Array(onnx), new Uint8Array(json), undefined, undefined, undefined, (...a) => encoder.encode(...a));
  linked.prepare();
  console.log(
    `web memory_mb one_worker=${f(whole.mb(), 0)} two_workers=${f(enc.mb() + dec.mb(), 0)} (encoder ${f(enc.mb(), 0)} + synthesis ${f(dec.mb(), 0)}; module memory after loading the voice)`,
  );
}

const server = await startServer({ isolate: ENGINE === 'wasm', revalidate: true });
const browser = await launch();
try {
  const context = await browser.newContext();
  // First load fills the Cache API; the figures below come from later loads.
  const page = await openDemo(context, `${server.url}/demo/?engine=${ENGINE}`);
  const err = await page.evaluate(() => window.parlaDemo.error);
  if (err) throw new Error(`the demo failed: ${err}\n${page.logs.join('\n')}`);

  // The page's first instance loaded its voice while the browser had not yet optimised the
  // engine's code: the cold figure. The later ones share the compiled module with it.
  const cold = await page.evaluate(() => window.parlaDemo.tts.metrics());
  await page.evaluate(() => window.parlaDemo.tts.close());
  // Loads with the encoder in its own worker (the default) and, interleaved, in one worker: the
  // reference the first is compared with. The last one (the default) stays for the figures below.
  const ready = await page.evaluate(async (chunk) => {
    const { createParla } = await import('/src/index.js');
    const out = [];
    const split = [true, false, true, false, true, false, true];
    for (let i = 0; i < split.length; i++) {
      const last = i === split.length - 1;
      const tts = await createParla({ engine: window.parlaDemo.tts.engine, chunk, encoderWorker: split[i], warmup: last });
      out.push({ ...tts.metrics(), split: tts.timings.encoderLoadMs !== null });
      if (!last) await tts.close();
      else window.benchTts = tts;
    }
    return out;
  }, chunk);
  const readyMs = ready.filter((m) => m.split).map((m) => m.voiceReadyMs);
  const oneWorkerMs = ready.filter((m) => !m.split).map((m) => m.voiceReadyMs);
  if (readyMs.length) {
    console.log(
      `web voice_ready_ms p50=${f(pct(readyMs, 50), 0)} min=${f(Math.min(...readyMs), 0)} (voice bytes → ready, encoder in its own worker; target ≤ 500)`,
    );
  }
  console.log(`web voice_ready_one_worker_ms p50=${f(pct(oneWorkerMs, 50), 0)} min=${f(Math.min(...oneWorkerMs), 0)} (the same, one worker: the reference)`);
  if (readyMs.length) {
    console.log(`web voice_ready_ratio=${f(pct(readyMs, 50) / pct(oneWorkerMs, 50), 2)} (two workers / one)`);
    const both = ready.filter((m) => m.split);
    console.log(
      `web voice_ready_parts p50: synthesis worker ${f(pct(both.map((m) => m.voiceLoadMs), 50), 0)} ms, encoder worker ${f(pct(both.map((m) => m.encoderLoadMs), 50), 0)} ms (each worker's own load)`,
    );
  }
  console.log(`web voice_ready_cold_ms=${f(cold.voiceReadyMs, 0)} (the page's first createParla, the engine's code not yet optimised by the browser)`);
  console.log(`web create_ms p50=${f(pct(ready.map((m) => m.readyMs), 50), 0)} (createParla with a cached voice: worker, wasm, worklet, cache read + sha256, load)`);
  console.log(`web wasm_instantiate_ms p50=${f(pct(ready.map((m) => m.wasmMs), 50), 0)}`);

  const ttfa = await page.evaluate(
    async ({ text, runs, warmup }) => {
      const tts = window.benchTts;
      const warmupMs = await tts.warm; // the background warm-up
      const out = [];
      const compute = [];
      const lead = [];
      let out0 = null;
      for (let i = 0; i < runs + warmup; i++) {
        const h = tts.speak(text);
        await new Promise((resolve) => {
          const poll = () => (h.ttfaMs !== null || h.state === 'failed' ? resolve() : setTimeout(poll, 1));
          poll();
        });
        if (i === 0) out0 = h.ttfaMs;
        if (i >= warmup) {
          out.push(h.ttfaMs);
          compute.push(h.firstChunkMs);
          lead.push(((h.firstAudibleSample ?? 0) / h.sampleRate) * 1000);
        }
        h.cancel();
        await h.done.catch(() => {});
        // Let the worker finish the chunk it was decoding when cancelled (cancel takes effect
        // between chunks), so each run starts with an idle worker.
        await new Promise((r) => setTimeout(r, 1000));
      }
      const stats = await tts.workletStats();
      return { out, compute, lead, first: out0, warmupMs, underruns: stats.underruns };
    },
    { text: FIRST, runs: RUNS, warmup: WARMUP },
  );
  console.log(`web ttfa_first_ms ${f(ttfa.first)} (the first speak() after createParla and its background warm-up, which took ${f(ttfa.warmupMs, 0)} ms)`);
  console.log(
    `web ttfa_ms p50=${f(pct(ttfa.out, 50))} p95=${f(pct(ttfa.out, 95))} max=${f(Math.max(...ttfa.out))} (speak() → first audible sample rendered, n=${RUNS} after ${WARMUP} warm-up, engine ${ENGINE}, chunk ${CHUNK ? CHUNK.join('/') : 'default'}; target p95 ≤ 50)`,
  );

  const rest = ttfa.out.map((t, i) => t - ttfa.compute[i] - ttfa.lead[i]);
  console.log(
    `web ttfa_parts p50: first chunk ${f(pct(ttfa.compute, 50))} ms in the worker, quiet audio before the first audible sample ${f(pct(ttfa.lead, 50))} ms, the rest ${f(pct(rest, 50))} ms (messages, ring, render quanta; a quantum is rendered ahead of its time, so this can be below 0)`,
  );

  const rtf = await page.evaluate(async (text) => {
    const tts = window.benchTts;
    const pcm = await tts.synthesize(text);
    const whole = pcm.ms / 1000 / (pcm.samples.length / pcm.sampleRate);
    const h = tts.speak(text);
    const r = await h.done;
    const stats = await tts.workletStats();
    return { whole, seconds: pcm.samples.length / pcm.sampleRate, stream: r.rtf, underruns: stats.underruns };
  }, PARAGRAPH);
  console.log(`web rtf whole=${f(rtf.whole, 3)} streaming=${f(rtf.stream, 3)} (${f(rtf.seconds)} s of audio; synthesis time / audio time)`);
  console.log(`web underruns=${rtf.underruns} (worklet, whole run; ${ttfa.underruns} of them in the time-to-first-audio runs)`);
  await page.close();

  // A returning visitor: a browser with a profile on disk keeps the files it was served
  // (revalidated) and, for the module, the code V8 optimised while the last visit ran. The
  // figure is a new browser's first createParla on a profile that visited once before.
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'parla-bench-profile-'));
  try {
    for (const visit of ['first', 'returning']) {
      const ctx = await launchWithProfile(profile);
      try {
        const p = await openDemo(ctx, `${server.url}/demo/?engine=${ENGINE}`);
        const m = await p.evaluate(() => window.parlaDemo.tts?.metrics() ?? { error: window.parlaDemo.error });
        if (m.error) throw new Error(`the demo failed on a profile: ${m.error}`);
        if (visit === 'returning') {
          console.log(`web voice_ready_returning_ms=${f(m.voiceReadyMs, 0)} (a new browser's first createParla on a profile that visited once: the engine's optimised code comes from the browser's cache)`);
        } else {
          await p.evaluate(() => window.parlaDemo.tts.warm);
          await new Promise((r) => setTimeout(r, 4000)); // V8 writes the code a moment after optimising it
        }
      } finally {
        await ctx.close();
      }
    }
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
  const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`web machine cpus=${os.cpus().length} loadavg=${load} (figures are wall-clock: other work on the machine slows them)`);
} finally {
  await browser.close();
  await server.close();
}
