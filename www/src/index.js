// parla: offline streaming text-to-speech in the browser.
//
//   const tts = await createParla({ voice: '/voices/en_US-joe-medium.onnx' });
//   const h = tts.speak('Hello there.', { speed: 1.1 });
//   h.on('boundary', (b) => highlight(b.charIndex, b.charLength));
//   await h.done;
//
// createParla starts everything a first word needs — the worker with the wasm core and the
// voice, the frame ring, the AudioContext (suspended until the first speak) and the worklet —
// so that speak() only has to synthesize. Engines: "wasm" (SharedArrayBuffer ring, on
// cross-origin isolated pages), "wasm-messageport" (frames as messages, elsewhere) and "server"
// (a Parla server's WebSocket stream, where WebAssembly is unavailable).

import { loadVoiceFiles, clearVoiceCache, sha256 } from './voice.js';
import { createRing, frameLen } from './ring.js';
import { createLink, linkSupported } from './link.js';
import { wavBlob, encodeWav } from './wav.js';
import { ServerEngine, listServerVoices } from './server.js';

export { clearVoiceCache, sha256, encodeWav, wavBlob, listServerVoices };

export const DEFAULT_VOICE = '/voices/en_US-joe-medium.onnx';

const DEFAULTS = {
  engine: 'auto',
  cache: true,
  chunk: {}, // each field left out takes the core's default (first 8, size 64, context 24)
  ringFrames: 128,
  encoderWorker: true,
};

/** A speech being played: events `start`, `boundary`, `end`, `error`; `done`; `cancel()`. */
export class SpeechHandle extends EventTarget {
  constructor(owner, id, text, sampleRate) {
    super();
    this.id = id;
    this.text = text ?? '';
    this.sampleRate = sampleRate;
    this.owner = owner;
    this.state = 'pending'; // pending → playing → ended | cancelled | failed
    this.startedAt = performance.now();
    this.ttfaMs = null;
    this.computeMs = 0;
    this.firstChunkMs = null; // the worker's time for the first chunk (G2P of its clause, encoder, decoder)
    this.firstAudibleSample = null; // where in the speech's samples the first audible one was
    this.samples = 0;
    this.level = null;
    this.boundaries = []; // not yet reached, in order
    this.reached = 0; // the speech's sample played so far
    this.done = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    this.done.catch(() => {}); // a caller who never awaits done is not an unhandled rejection
  }

  /** Adds a listener that receives the event's detail; returns the handle. */
  on(type, fn) {
    this.addEventListener(type, (e) => fn(e.detail));
    return this;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Stops this speech now (queued audio is dropped within a render quantum). */
  cancel() {
    if (this.state === 'ended' || this.state === 'cancelled' || this.state === 'failed') return;
    this.owner._cancel(this);
    this.settle('cancelled');
  }

  /** Real-time factor so far: synthesis time over audio time. */
  get rtf() {
    return this.samples ? this.computeMs / 1000 / (this.samples / this.sampleRate) : null;
  }

  addEvents(events) {
    for (const e of events) {
      this.boundaries.push({
        name: e.type === 'segment' ? 'sentence' : 'word',
        text: e.text,
        charIndex: e.from ?? null,
        charLength: e.from === undefined ? null : e.to - e.from,
        sample: e.start,
        endSample: e.end,
        elapsedTime: e.start / this.sampleRate,
        segment: e.segment,
        index: e.index,
      });
    }
  }

  reach(sample) {
    this.reached = sample;
    while (this.boundaries.length && this.boundaries[0].sample <= sample) this.emit('boundary', this.boundaries.shift());
  }

  started() {
    if (this.state !== 'pending') return;
    this.state = 'playing';
    this.emit('start', { id: this.id, time: performance.now() - this.startedAt });
  }

  settle(state, detail = {}) {
    if (this.state === 'ended' || this.state === 'cancelled' || this.state === 'failed') return;
    if (state === 'ended') this.reach(Infinity);
    this.state = state;
    const result = { id: this.id, cancelled: state === 'cancelled', ttfaMs: this.ttfaMs, rtf: this.rtf, ...this.level, ...detail };
    this.owner._settled(this, result);
    if (state === 'failed') {
      this.emit('error', detail);
      this._reject(new Error(detail.message));
    } else {
      this.emit('end', result);
      this._resolve(result);
    }
  }
}

/** A speech fed text as it comes (LLM tokens): `write(piece)`, then `end()`. */
export class SpeechStream extends SpeechHandle {
  write(piece) {
    if (this.ended) throw new Error('write after end');
    this.text += piece;
    if (this.state === 'pending' || this.state === 'playing') this.owner._push(this, String(piece));
    return this;
  }

  end() {
    if (!this.ended) {
      this.ended = true;
      if (this.state === 'pending' || this.state === 'playing') this.owner._end(this);
    }
    return this.done;
  }
}

/** Options of the core, as the worker takes them. */
function coreOptions(o = {}) {
  const out = {};
  for (const k of ['speed', 'speaker', 'seed', 'noiseScale', 'noiseW', 'lengthScale']) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

class Parla extends EventTarget {
  constructor() {
    super();
    this.handles = new Map();
    this.pending = new Map();
    this.nextId = 1;
    this.nextReq = 1;
    this.underruns = 0;
    this.broken = null;
    this.timings = {};
    this.recent = null; // the last speech whose audio was heard
    /** Resolves once the background warm-up ran (or was skipped: disabled, or a speech came first). */
    this.warm = new Promise((resolve) => (this._warmed = resolve));
  }

  /** "wasm", "wasm-messageport" or "server". */
  get engine() {
    return this._engine;
  }

  /** Speaks `text`; returns its handle. Options: speed, speaker, volume, seed, noiseScale, noiseW. */
  speak(text, options = {}) {
    this._warmed(null); // a speech cancels the warm-up
    return this._open(new SpeechHandle(this, this.nextId++, String(text), this.sampleRate), String(text), options);
  }

  /** Opens a stream of text spoken as it arrives: `s.write(piece)`, `s.end()`. */
  stream(options = {}) {
    this._warmed(null);
    return this._open(new SpeechStream(this, this.nextId++, '', this.sampleRate), null, options);
  }

  /** The whole text's audio without playing it: `{samples, sampleRate, events, toWav()}`. */
  async synthesize(text, options = {}) {
    if (this._engine === 'server') throw new Error('synthesize() needs the wasm engine');
    const r = await this._call({ type: 'synthesize', text: String(text), options: coreOptions(options) });
    const sampleRate = this.sampleRate;
    return { samples: r.samples, sampleRate, events: r.events, ms: r.ms, toWav: () => wavBlob(r.samples, sampleRate) };
  }

  /** Text → IPA (the core's normalizer and G2P). */
  async phonemize(text) {
    return (await this._call({ type: 'phonemize', text: String(text) })).ipa;
  }

  /** Stops every speech. */
  cancelAll() {
    for (const h of [...this.handles.values()]) h.cancel();
  }

  /** Figures so far: engine, ttfa_ms, rtf, underruns, voice_ready_ms … */
  metrics() {
    const h = this.recent; // the speech heard last (live figures while it plays)
    return {
      engine: this._engine,
      ttfa_ms: h ? h.ttfaMs : null,
      rtf: h ? h.rtf : null,
      underruns: this.underruns,
      voice_ready_ms: this.timings.voiceReadyMs ?? null,
      ...this.timings,
    };
  }

  /** Asks the worklet for its counters: `{underruns, lastAudibleTime, time}` (audio clock, s). */
  workletStats() {
    return new Promise((resolve) => {
      const ask = this.nextReq++;
      this.pending.set(`stats${ask}`, { resolve, reject: resolve });
      this.node.port.postMessage({ type: 'stats', ask });
    });
  }

  /** Frees the worker and the audio graph. */
  async close() {
    this.cancelAll();
    if (this.worker) this.worker.terminate();
    if (this.encoderWorker) this.encoderWorker.terminate();
    if (this.server) this.server.close();
    if (this.node) this.node.disconnect();
    if (this.ownsContext && this.context.state !== 'closed') await this.context.close();
  }

  _open(h, text, options) {
    if (this.broken) {
      queueMicrotask(() => h.settle('failed', { message: this.broken }));
      return h;
    }
    this.handles.set(h.id, h);
    if (this.context.state !== 'running') this.context.resume().catch(() => {});
    if (options.volume !== undefined) this.node.port.postMessage({ type: 'volume', id: h.id, volume: Number(options.volume) });
    if (this.server) this.server.speak(h, text, options);
    else this.worker.postMessage({ type: 'speak', id: h.id, text, options: coreOptions(options) });
    return h;
  }

  _push(h, piece) {
    if (this.server) this.server.push(h, piece);
    else this.worker.postMessage({ type: 'push', id: h.id, text: piece });
  }

  _end(h) {
    if (this.server) this.server.end(h);
    else this.worker.postMessage({ type: 'end', id: h.id });
  }

  _cancel(h) {
    this.node.port.postMessage({ type: 'cancel', id: h.id });
    if (this.server) this.server.cancel(h);
    else this.worker.postMessage({ type: 'cancel', id: h.id });
  }

  _settled(h, result) {
    this.handles.delete(h.id);
    this.dispatchEvent(new CustomEvent('metrics', { detail: this.metrics() }));
  }

  _call(msg, transfer) {
    if (this.broken) return Promise.reject(new Error(this.broken));
    const req = this.nextReq++;
    return new Promise((resolve, reject) => {
      this.pending.set(req, { resolve, reject });
      this.worker.postMessage({ ...msg, req }, transfer || []);
    });
  }

  _onWorker(m) {
    if (m.req !== undefined && this.pending.has(m.req)) {
      const p = this.pending.get(m.req);
      this.pending.delete(m.req);
      if (m.type === 'error' || m.type === 'fatal') p.reject(new Error(m.message));
      else p.resolve(m);
      if (m.type !== 'fatal') return;
    }
    const h = m.id !== undefined ? this.handles.get(m.id) : undefined;
    switch (m.type) {
      case 'chunk':
        if (!h) break;
        h.computeMs += m.ms;
        if (h.firstChunkMs === null) h.firstChunkMs = m.ms;
        h.samples += m.samples;
        h.addEvents(m.events);
        break;
      case 'produced':
        if (h) h.produced = true;
        break;
      case 'error':
        if (h) {
          this.node.port.postMessage({ type: 'cancel', id: h.id });
          h.settle('failed', { message: m.message });
        }
        break;
      case 'warm':
        this.timings.warmupMs = m.ms;
        this._warmed(m.ms);
        break;
      case 'fatal':
        this._break(m.message);
        break;
    }
  }

  _break(message) {
    this.broken = message;
    for (const p of this.pending.values()) p.reject(new Error(message));
    this.pending.clear();
    for (const h of [...this.handles.values()]) {
      this.node.port.postMessage({ type: 'cancel', id: h.id });
      h.settle('failed', { message });
    }
    this.dispatchEvent(new CustomEvent('error', { detail: { message } }));
  }

  _onWorklet(m) {
    if (m.type === 'stats') {
      const p = this.pending.get(`stats${m.ask}`);
      this.pending.delete(`stats${m.ask}`);
      this.underruns = m.underruns;
      if (p) p.resolve(m);
      return;
    }
    if (m.type === 'consumed') return; // server engine: frames come from this page, no backpressure
    const h = this.handles.get(m.id);
    switch (m.type) {
      case 'start':
        if (h) h.started();
        break;
      case 'first':
        if (h && h.ttfaMs === null) {
          h.ttfaMs = performance.now() - h.startedAt;
          h.firstAudibleSample = m.sample ?? null;
          this.recent = h;
          this.dispatchEvent(new CustomEvent('metrics', { detail: this.metrics() }));
        }
        break;
      case 'pos':
        this.underruns = m.underruns;
        if (h) h.reach(m.sample);
        break;
      case 'end':
        this.underruns = m.underruns;
        if (h) {
          h.level = { peak: m.peak, rms: m.rms, rendered: m.samples };
          h.settle('ended');
        }
        break;
    }
  }
}

// The core is compiled once per page and posted to every worker: a createParla after the first
// skips the compile, and the code the browser's optimising tier made while one instance ran
// serves the next (V8 shares a compiled module between the workers it is posted to).
let coreModule = null;
function compileCore(url) {
  if (!coreModule) {
    coreModule = (async () => {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`the speech engine could not be fetched: HTTP ${response.status}`);
      try {
        return await WebAssembly.compileStreaming(response.clone());
      } catch {
        // Served without the application/wasm type: compile from the bytes.
        return WebAssembly.compile(await response.arrayBuffer());
      }
    })();
    coreModule.catch(() => {
      coreModule = null;
    });
  }
  return coreModule;
}

function makeWorker() {
  return new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'parla' });
}

function makeEncoderWorker() {
  return new Worker(new URL('./encoder-worker.js', import.meta.url), { type: 'module', name: 'parla-encoder' });
}

function workerCall(worker, msg, transfer) {
  return new Promise((resolve, reject) => {
    const on = (e) => {
      if (e.data.req !== msg.req) return;
      worker.removeEventListener('message', on);
      if (e.data.type === 'error' || e.data.type === 'fatal') reject(new Error(e.data.message));
      else resolve(e.data);
    };
    worker.addEventListener('message', on);
    worker.postMessage(msg, transfer || []);
  });
}

/**
 * Creates a speaker. Options:
 * - `voice`: URL of a `.onnx` (with `.onnx.json` beside it) or `{onnx, json}` of URLs or bytes;
 * - `sha256`: expected hex SHA-256 of the `.onnx` (or `{onnx, json}`);
 * - `onProgress({url, what, loaded, total, cached})`: download progress;
 * - `engine`: "auto" (default), "wasm", "wasm-messageport" or "server";
 * - `server`: base URL of a Parla server (default: this page's origin), for the server engine;
 * - `cache` (default true): keep voices in the Cache API;
 * - `chunk`: `{first, size, context}` decoder frames; `ringFrames`: ring capacity (10 ms frames);
 * - `audioContext`: an AudioContext to play into (default: a new one);
 * - `warmup` (default true): run the engine once in the background after loading, so the first
 *   speech starts as fast as later ones;
 * - `encoderWorker` (default true): on cross-origin isolated pages, prepare the voice's encoder in
 *   a second worker while the first prepares its decoder: ready in about three quarters of the
 *   time (0.44 s instead of 0.6 s here), for a second instance of the engine (about 70 MB more
 *   module memory in all: 223 MB instead of 152 MB for the default voice).
 */
export async function createParla(options = {}) {
  const o = { ...DEFAULTS, ...options, chunk: { ...DEFAULTS.chunk, ...(options.chunk || {}) } };
  const t0 = performance.now();
  const tts = new Parla();
  const wasm = typeof WebAssembly === 'object' && typeof WebAssembly.instantiate === 'function';
  let engine = o.engine;
  if (engine === 'auto') {
    const shared = globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
    engine = !wasm ? 'server' : shared ? 'wasm' : 'wasm-messageport';
  }
  if (engine === 'wasm' && !(globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function')) {
    throw new Error('the "wasm" engine needs a cross-origin isolated page (COOP/COEP headers); use "auto"');
  }
  tts._engine = engine;
  tts.context = o.audioContext || new AudioContext({ latencyHint: 'interactive' });
  tts.ownsContext = !o.audioContext;
  const worklet = tts.context.audioWorklet.addModule(new URL('./worklet.js', import.meta.url));

  if (engine === 'server') {
    await worklet;
    const sampleRate = o.sampleRate || 22050;
    tts.sampleRate = sampleRate;
    tts.node = new AudioWorkletNode(tts.context, 'parla', {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      processorOptions: { sourceRate: sampleRate, frameLen: frameLen(sampleRate) },
    });
    tts.node.port.onmessage = (e) => tts._onWorklet(e.data);
    tts.node.connect(tts.context.destination);
    tts.server = new ServerEngine(tts, o.server, o.voice);
    tts._warmed(null);
    tts.timings.readyMs = performance.now() - t0;
    return tts;
  }

  // The wasm compiles while the voice downloads.
  const worker = makeWorker();
  tts.worker = worker;
  const encoderWorker = engine === 'wasm' && o.encoderWorker && linkSupported() ? makeEncoderWorker() : null;
  tts.encoderWorker = encoderWorker;
  // An engine crash while encoding breaks the speaker whenever it comes: the warm-up's first
  // encoding can come before createParla returns.
  encoderWorker?.addEventListener('message', (e) => e.data.type === 'fatal' && tts._break(e.data.message));
  const failed = new Promise((_, reject) => {
    for (const w of [worker, encoderWorker].filter(Boolean)) {
      w.addEventListener('error', (e) => reject(new Error(`the speech worker failed to start: ${e.message || 'script error'}`)));
    }
  });
  failed.catch(() => {});
  const wasmUrl = new URL('../pkg/parla_web_bg.wasm', import.meta.url).href;
  const ready = compileCore(wasmUrl).then((module) =>
    Promise.all([worker, encoderWorker].filter(Boolean).map((w) => workerCall(w, { type: 'init', wasm: module, req: 0 }))).then((r) => r[0]),
  );
  ready.catch(() => {}); // awaited below, after the voice: no "unhandled rejection" meanwhile
  try {
    const tDownload = performance.now();
    const files = await Promise.race([loadVoiceFiles(o.voice || DEFAULT_VOICE, { cache: o.cache, sha256: o.sha256, onProgress: o.onProgress }), failed]);
    tts.timings.voiceFetchMs = performance.now() - tDownload;
    tts.timings.voiceCached = files.cached;
    tts.sampleRate = files.sampleRate;
    await Promise.race([worklet, failed]);
    let processorOptions = { sourceRate: files.sampleRate, frameLen: frameLen(files.sampleRate) };
    let connect;
    if (engine === 'wasm') {
      const ring = createRing(o.ringFrames, files.sampleRate);
      processorOptions.ring = ring;
      connect = { type: 'connect', ring, frameLen: ring.frameLen, capacity: ring.capacity };
    } else {
      const channel = new MessageChannel();
      connect = { type: 'connect', port: channel.port1, frameLen: frameLen(files.sampleRate), capacity: o.ringFrames };
      tts._framePort = channel.port2;
    }
    tts.node = new AudioWorkletNode(tts.context, 'parla', {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      processorOptions,
    });
    if (tts._framePort) tts.node.port.postMessage({ type: 'connect', port: tts._framePort }, [tts._framePort]);
    tts.node.port.onmessage = (e) => tts._onWorklet(e.data);
    tts.node.connect(tts.context.destination);
    const wasmReady = await Promise.race([ready, failed]);
    tts.timings.wasmMs = wasmReady.ms;
    await workerCall(worker, { ...connect, req: 1 }, connect.port ? [connect.port] : []);
    const tLoad = performance.now();
    let loaded;
    try {
      // Both workers get the files (the encoder worker a copy); each keeps only its half.
      const link = encoderWorker ? createLink() : undefined;
      const copy = encoderWorker ? { onnx: files.onnx.slice(0), json: files.json.slice(0) } : null;
      const encoderLoaded = encoderWorker
        ? workerCall(encoderWorker, { type: 'load', ...copy, link, req: 2 }, [copy.onnx, copy.json])
        : Promise.resolve(null);
      const decoderLoaded = workerCall(worker, { type: 'load', onnx: files.onnx, json: files.json, chunk: o.chunk, warmup: o.warmup, link, req: 2 }, [files.onnx, files.json]);
      const both = await Promise.race([Promise.all([decoderLoaded, encoderLoaded]), failed]);
      loaded = both[0];
      tts.timings.encoderLoadMs = both[1] ? both[1].ms : null;
    } catch (e) {
      const m = String(e.message);
      throw new Error(m.startsWith('voice ') ? m : `voice file is not a Piper model: ${m}`);
    }
    tts.timings.voiceReadyMs = performance.now() - tLoad;
    tts.timings.voiceLoadMs = loaded.ms;
    tts.speakers = loaded.speakers;
    tts.speakerNames = loaded.speakerNames;
    tts.hop = loaded.hop;
  } catch (e) {
    worker.terminate();
    encoderWorker?.terminate();
    if (tts.ownsContext) tts.context.close().catch(() => {});
    throw e;
  }
  if (o.warmup === false) tts._warmed(null);
  worker.onmessage = (e) => tts._onWorker(e.data);
  worker.addEventListener('error', (e) => tts._break(`the speech worker failed: ${e.message || 'script error'}`));
  encoderWorker?.addEventListener('error', (e) => tts._break(`the encoder worker failed: ${e.message || 'script error'}`));
  tts.timings.readyMs = performance.now() - t0;
  // The rest of getting ready (the warm-up, one more decoder plan) waits until the code that
  // awaited createParla has run: a speech it asks for at once goes first instead of behind
  // ~0.5 s of it. A task runs after that code's microtasks.
  setTimeout(() => worker.postMessage({ type: 'idle' }), 0);
  return tts;
}
