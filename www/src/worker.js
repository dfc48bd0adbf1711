// Parla's synthesis worker: runs the wasm core and writes 10 ms frames for the AudioWorklet,
// into the SharedArrayBuffer ring (waiting when it is full) or, on pages that are not
// cross-origin isolated, as transferred messages on a MessagePort (at most `capacity` frames in
// flight). Speeches are spoken one after another, in the order they were asked for.
//
// Messages in: init, connect, load (with a link: see encoder-worker.js), idle (the page is
// ready: warm up and prepare), speak, push, end, cancel, synthesize, phonemize (see index.js).
// Messages out: ready, connected, loaded, warm, chunk (events + timing, sent before the chunk's frames are
// written, so the page knows a word before it is heard), produced, pcm, ipa, error, fatal.

import init, { Voice, phonemize, lastPanic } from '../pkg/parla_web.js';
import { RingWriter, FLAG_END } from './ring.js';
import { linkCaller } from './link.js';

let voice = null;
let transport = null;
let frameLen = 221;
const queue = [];
// Work for when no speech is queued (see the 'idle' message).
const background = [];
let warmupWanted = true;
const jobs = new Map();
const EMPTY = new Float32Array(0);
const WARMUP_TEXT = 'Hello there, this warms the engine up.';

const post = (m, transfer) => self.postMessage(m, transfer || []);

// A speech starts at its first audible sample (the core drops the quiet ones before it), but its
// first chunk must still hold as much audio as the next chunk takes to decode, or playback runs
// dry right after it starts. That time is measured: the chunk after the first of the last speech
// (the warm-up's at first; while none is known, nothing is dropped). The margin covers its jitter
// and the audio device, which takes several render quanta at a time (+10 ms alone gave headless
// Chromium underruns in 3 of 5 runs of the browser bench here).
let nextChunkMs = Infinity;
const CUSHION_FACTOR = 1.25;
const CUSHION_MARGIN_MS = 15;
function leadCushion() {
  const ms = nextChunkMs * CUSHION_FACTOR + CUSHION_MARGIN_MS;
  return Number.isFinite(ms) ? Math.ceil((ms * voice.sampleRate) / 1000) : 0xffffffff;
}

// A speech that comes before any chunk after a first was timed (right after loading, before the
// warm-up has run) runs on code the browser has not optimised yet, whose next chunk takes longer
// than the first chunk's audio lasts: played at once, it ran dry in 6 of 7 runs of
// tests/web/vite.test.mjs here (gaps of 3 to 20 render quanta). Such a first chunk, if it lasts
// less than its own time to compute (an upper bound of the next one's) with the cushion's margin,
// waits for the second chunk and both go out together: the first words come one chunk later
// (measured when the warm-up still went first: time to first audio 650–1000 → 765–946 ms in five
// runs each), with no gap (5 of 5).
function holdsFirst(samples, ms) {
  if (Number.isFinite(nextChunkMs)) return false;
  return (samples * 1000) / voice.sampleRate < ms * CUSHION_FACTOR + CUSHION_MARGIN_MS;
}

// A stream's text that stops coming mid-clause (an LLM calling a tool after "Let me look that
// up") is spoken once it has stalled and the audio queued for the worklet is about to run out:
// the core's Speech.idleDeadline holds the whole rule, given when that audio ends.
function audioEnds(now) {
  return now + (transport.queued() * frameLen * 1000) / voice.sampleRate;
}

function armIdle(job) {
  clearTimeout(job.idleTimer);
  const now = performance.now();
  const at = job.speech?.idleDeadline(audioEnds(now));
  if (at === undefined) return;
  job.idleTimer = setTimeout(() => {
    if (job.cancelled || !job.speech) return;
    const now = performance.now();
    if (job.speech.cutIdle(now, audioEnds(now))) pump();
    else armIdle(job);
  }, Math.max(at - now, 0));
}

/** Frames go into the shared ring. */
class RingTransport {
  constructor(ring) {
    this.w = new RingWriter(ring);
  }
  free() {
    return this.w.free();
  }
  queued() {
    return this.w.capacity - this.w.free();
  }
  wait() {
    return this.w.waitForRoom(50);
  }
  send(id, pos, all, offset, frames, total, end) {
    for (let k = 0; k < frames; k++) {
      const len = Math.max(0, Math.min(frameLen, total - k * frameLen));
      this.w.put(id, pos + k * frameLen, all, offset + k * frameLen, len, end && k === frames - 1 ? FLAG_END : 0);
    }
  }
}

/** Frames go to the worklet as messages; the worklet reports what it consumed. */
class PortTransport {
  constructor(port, capacity) {
    this.port = port;
    this.capacity = capacity;
    this.inflight = 0;
    this.waiters = [];
    port.onmessage = (e) => {
      if (e.data.type === 'consumed') {
        this.inflight = Math.max(0, this.inflight - e.data.frames);
        for (const w of this.waiters.splice(0)) w();
      }
    };
  }
  free() {
    return this.capacity - this.inflight;
  }
  queued() {
    return this.inflight;
  }
  wait() {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      setTimeout(resolve, 50);
    });
  }
  send(id, pos, all, offset, frames, total, end) {
    const samples = all.slice(offset, offset + total);
    this.inflight += frames;
    this.port.postMessage({ type: 'frames', id, pos, samples, frames, end }, [samples.buffer]);
  }
}

// A yield that lets queued messages (cancel, more text) run, without setTimeout's clamping.
const yieldChannel = new MessageChannel();
const yielders = [];
yieldChannel.port1.onmessage = () => yielders.shift()?.();
const yieldNow = () =>
  new Promise((resolve) => {
    yielders.push(resolve);
    yieldChannel.port2.postMessage(0);
  });

/**
 * Writes a job's samples as whole frames (a tail shorter than a frame waits for more, unless
 * `end`, when it goes out as the last frame, flagged). Waits while the consumer is full.
 */
async function writeSamples(job, samples, end) {
  let all = samples;
  if (job.carry.length) {
    all = new Float32Array(job.carry.length + samples.length);
    all.set(job.carry);
    all.set(samples, job.carry.length);
  }
  const frames = end ? Math.max(1, Math.ceil(all.length / frameLen)) : Math.floor(all.length / frameLen);
  let f = 0;
  while (f < frames) {
    if (job.cancelled) return;
    const room = transport.free();
    if (room <= 0) {
      await transport.wait();
      continue;
    }
    const n = Math.min(room, frames - f);
    const last = f + n === frames;
    const total = Math.min(all.length - f * frameLen, n * frameLen);
    transport.send(job.id, job.pos, all, f * frameLen, n, total, end && last);
    job.pos += n * frameLen;
    f += n;
  }
  job.carry = end ? EMPTY : all.slice(frames * frameLen);
}

function drop(job) {
  const i = queue.indexOf(job);
  if (i >= 0) queue.splice(i, 1);
  jobs.delete(job.id);
  clearTimeout(job.idleTimer);
  if (job.speech) {
    job.speech.free();
    job.speech = null;
  }
}

function failure(err) {
  if (err instanceof WebAssembly.RuntimeError) {
    const panic = safe(lastPanic);
    return { fatal: true, message: `the speech engine crashed${panic ? `: ${panic}` : ` (${err.message})`}` };
  }
  return { fatal: false, message: err && err.message ? err.message : String(err) };
}

function safe(f) {
  try {
    return f();
  } catch {
    return null;
  }
}

function fail(job, err) {
  const f = failure(err);
  // A warm-up that fails is only skipped (a real speech reports the same error itself), and the
  // page's `warm` promise still settles.
  if (job && job.warmup && !f.fatal) post({ type: 'warm', ms: null });
  else post({ type: f.fatal ? 'fatal' : 'error', id: job ? job.id : undefined, message: f.message });
  if (job) drop(job);
}

let pumping = false;
async function pump() {
  if (pumping) return;
  pumping = true;
  try {
    while (queue.length || background.length) {
      if (!queue.length) {
        background.shift()();
        await yieldNow();
        continue;
      }
      const job = queue[0];
      if (job.cancelled) {
        drop(job);
        continue;
      }
      let chunk;
      const t0 = performance.now();
      try {
        chunk = job.speech.nextChunk();
      } catch (err) {
        fail(job, err);
        continue;
      }
      const ms = performance.now() - t0;
      if (!chunk) {
        if (!job.speech.done) {
          await release(job); // nothing more to wait for: play what there is
          armIdle(job); // a stream waiting for text: push, end or the idle cut pump again
          break;
        }
        if (job.warmup) {
          post({ type: 'warm', ms: performance.now() - job.t0 });
          drop(job);
          continue;
        }
        await release(job);
        await writeSamples(job, EMPTY, true);
        if (!job.cancelled) post({ type: 'produced', id: job.id, samples: job.pos });
        drop(job);
        continue;
      }
      if (job.warmup) {
        if (++job.chunks === 2) nextChunkMs = ms;
        chunk.free();
        await yieldNow();
        continue;
      }
      const samples = chunk.samples;
      const events = chunk.events;
      const start = chunk.start;
      chunk.free();
      // Chunks since the first that had speech (not a <break>'s silence).
      if (job.chunks || events.some((e) => e.type === 'segment')) {
        if (++job.chunks === 1 && holdsFirst(samples.length, ms)) {
          job.held = { start, samples, ms, events };
          await yieldNow();
          continue;
        }
        if (job.chunks === 2) nextChunkMs = ms;
      }
      await release(job);
      post({ type: 'chunk', id: job.id, start, samples: samples.length, ms, events });
      await writeSamples(job, samples, false);
      await yieldNow();
    }
  } finally {
    pumping = false;
  }
}

/** Sends a job's held first chunk (see holdsFirst), if it has one. */
async function release(job) {
  const held = job.held;
  if (!held) return;
  job.held = null;
  post({ type: 'chunk', id: job.id, start: held.start, samples: held.samples.length, ms: held.ms, events: held.events });
  await writeSamples(job, held.samples, false);
}

function startSpeech(text, options) {
  if (!voice) throw new Error('no voice is loaded');
  return voice.start(text ?? undefined, options ?? undefined);
}

/** Speaks a whole text without playing it: all samples and events at once. */
function synthesize(text, options) {
  const speech = startSpeech(text, options);
  const parts = [];
  const events = [];
  let n = 0;
  const t0 = performance.now();
  try {
    for (let c = speech.nextChunk(); c; c = speech.nextChunk()) {
      const s = c.samples;
      events.push(...c.events);
      c.free();
      parts.push(s);
      n += s.length;
    }
  } finally {
    speech.free();
  }
  const samples = new Float32Array(n);
  let at = 0;
  for (const p of parts) {
    samples.set(p, at);
    at += p.length;
  }
  return { samples, events, ms: performance.now() - t0 };
}

async function handle(m) {
  switch (m.type) {
    case 'init': {
      const t0 = performance.now();
      await init({ module_or_path: m.wasm });
      post({ type: 'ready', req: m.req, ms: performance.now() - t0 });
      break;
    }
    case 'connect':
      frameLen = m.frameLen;
      transport = m.ring ? new RingTransport(m.ring) : new PortTransport(m.port, m.capacity);
      post({ type: 'connected', req: m.req });
      break;
    case 'load': {
      const t0 = performance.now();
      const c = m.chunk || {};
      // undefined chunk sizes: the core's. With a link, the encoder worker prepares the encoder
      // meanwhile, and encodes for this voice.
      const v = m.link
        ? Voice.loadDecoder(new Uint8Array(m.onnx), new Uint8Array(m.json), c.first, c.size, c.context, linkCaller(m.link))
        : Voice.load(new Uint8Array(m.onnx), new Uint8Array(m.json), c.first, c.size, c.context);
      if (voice) voice.free();
      voice = v;
      warmupWanted = m.warmup !== false;
      post({
        type: 'loaded',
        req: m.req,
        ms: performance.now() - t0,
        sampleRate: v.sampleRate,
        speakers: v.speakers,
        speakerNames: v.speakerNames,
        hop: v.hop,
      });
      break;
    }
    case 'idle': {
      // The page got the speaker and had its chance to speak at once (see createParla): what
      // is left of getting ready runs now, when no speech is queued, as it would delay one.
      // First the decoder plan for utterances that fit in one chunk, which loading leaves out
      // so that the page is ready sooner. Then, unless a speech came first, the warm-up runs the
      // engine once: the browser compiles its hot code with its optimising tier, so the first
      // real speech starts as fast as later ones. A speech asked for meanwhile drops it at the
      // next chunk. (How fast a chunk runs in V8 once compiled can depend on how deep this
      // worker's stack is when it calls the module: see core/src/infer/kernel.rs for why the
      // wasm builds run a matrix kernel that does not spill.)
      const v = voice;
      if (!v) break;
      background.push(() => {
        if (voice !== v) return;
        try {
          v.prepare();
        } catch {
          // The first such utterance tries again and reports the error.
        }
      });
      background.push(() => {
        if (voice !== v || !warmupWanted) return;
        try {
          queue.push({ id: -1, warmup: true, speech: v.start(WARMUP_TEXT, undefined), cancelled: false, pos: 0, carry: EMPTY, chunks: 0, t0: performance.now() });
        } catch {
          // No warm-up: the first speech runs on cold code and reports any error itself.
          post({ type: 'warm', ms: null });
        }
      });
      pump();
      break;
    }
    case 'speak': {
      warmupWanted = false; // a speech has run the engine
      for (const w of queue) {
        if (w.warmup) {
          w.cancelled = true;
          w.speech?.cancel();
        }
      }
      const job = { id: m.id, speech: null, cancelled: false, pos: 0, carry: EMPTY, chunks: 0, held: null };
      job.speech = startSpeech(m.text, m.options);
      job.speech.leadCushion = leadCushion();
      jobs.set(m.id, job);
      queue.push(job);
      pump();
      break;
    }
    case 'push':
    case 'end': {
      const job = jobs.get(m.id);
      if (!job || job.cancelled) break;
      if (m.type === 'push') job.speech.pushAt(m.text, performance.now());
      else job.speech.end();
      pump();
      break;
    }
    case 'cancel': {
      const ids = m.id === undefined ? [...jobs.keys()] : [m.id];
      for (const id of ids) {
        const job = jobs.get(id);
        if (!job) continue;
        job.cancelled = true;
        job.speech?.cancel();
        if (!pumping || queue[0] !== job) drop(job);
      }
      break;
    }
    case 'synthesize': {
      const r = synthesize(m.text, m.options);
      post({ type: 'pcm', req: m.req, samples: r.samples, events: r.events, ms: r.ms }, [r.samples.buffer]);
      break;
    }
    case 'phonemize':
      post({ type: 'ipa', req: m.req, ipa: phonemize(m.text) });
      break;
  }
}

self.onmessage = async (e) => {
  const m = e.data;
  try {
    await handle(m);
  } catch (err) {
    const f = failure(err);
    post({ type: f.fatal ? 'fatal' : 'error', req: m.req, id: m.id, message: f.message });
  }
};
