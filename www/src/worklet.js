// Parla's AudioWorkletProcessor: plays the speech frames the worker makes, resampled from the
// voice's rate to the AudioContext's, and tells the page what it actually rendered (a speech
// started, its first audible sample, the position reached, its end, underruns, levels).
//
// Frames come either from the SharedArrayBuffer ring (layout in ring.js; this module is loaded on
// its own, so it reads the ring with its own code) or, on pages that are not cross-origin
// isolated, as messages on a MessagePort (from the worker, or from the page for the server
// engine), whose consumption is reported back so the producer never runs far ahead.

const WRITE = 0;
const READ = 1;
const UNDERRUNS = 2;
const META_INTS = 4;
const FLAG_END = 1;
/**
 * Below this (about −60 dBFS) a sample counts as silence. The same level as the core's
 * `frames::QUIET`, which decides the quiet start a speech drops: keep the two equal, or the
 * first audible sample reported here and the speech's start disagree (a worklet module loads
 * alone, so it cannot import the constant).
 */
const AUDIBLE = 1e-3;
/** Render quanta between position reports while a speech plays (~8 ms at 48 kHz). */
const POS_EVERY = 3;

class ParlaProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options.processorOptions || {};
    this.setRate(o.sourceRate || 22050);
    this.frameLen = o.frameLen || 221;
    if (o.ring) {
      this.capacity = o.ring.capacity;
      this.ctrl = new Int32Array(o.ring.ctrl);
      this.meta = new Int32Array(o.ring.meta);
      this.data = new Float32Array(o.ring.data);
    }
    this.queue = []; // port mode: {id, pos, samples, len, end, frames, from}
    this.block = null; // the frames being played: {id, pos, samples, off, len, end, slot?, frames?, from?}
    this.bi = 0;
    this.s0 = 0;
    this.s1 = 0;
    this.t = 1;
    this.playing = -1; // id of the speech being played
    this.cancelled = new Set();
    this.volumes = new Map();
    this.speech = null; // levels of the playing speech
    this.underruns = 0;
    this.lastAudible = -1; // currentFrame-based index of the last audible sample rendered
    this.quanta = 0;
    this.consumed = 0; // port mode: frames played, not yet reported
    this.framePort = null; // port mode: where frames come from (consumption goes back there)
    this.port.onmessage = (e) => this.onMessage(e.data, this.port);
  }

  setRate(rate) {
    this.sourceRate = rate;
    this.step = rate / sampleRate;
  }

  onMessage(m, from) {
    switch (m.type) {
      case 'frames':
        this.framePort = from;
        this.queue.push({ id: m.id, pos: m.pos, samples: m.samples, off: 0, len: m.samples.length, end: m.end, frames: m.frames, from });
        break;
      case 'connect':
        m.port.onmessage = (e) => this.onMessage(e.data, m.port);
        break;
      case 'cancel':
        this.cancel(m.id);
        break;
      case 'volume':
        this.volumes.set(m.id, m.volume);
        break;
      case 'rate':
        this.setRate(m.rate);
        break;
      case 'stats':
        this.port.postMessage({
          type: 'stats',
          ask: m.ask,
          underruns: this.underruns,
          lastAudibleTime: this.lastAudible < 0 ? null : this.lastAudible / sampleRate,
          time: currentTime,
        });
        break;
    }
  }

  cancel(id) {
    if (this.cancelled.size > 256) this.cancelled.clear();
    this.cancelled.add(id);
    this.volumes.delete(id);
    if (this.block && this.block.id === id) {
      this.bi = this.block.len;
      this.release();
    }
    this.queue = this.queue.filter((b) => {
      if (b.id !== id) return true;
      this.consumed += b.frames;
      return false;
    });
    this.reportConsumed(this.framePort);
    if (this.playing === id) {
      this.playing = -1;
      this.speech = null;
      this.s0 = this.s1 = 0;
    }
  }

  /** Done with the current block: free its slot (ring) or count its frames (port). */
  release() {
    const b = this.block;
    if (!b) return;
    this.block = null;
    if (b.slot !== undefined) {
      Atomics.store(this.ctrl, READ, (Atomics.load(this.ctrl, READ) + 1) | 0);
      Atomics.notify(this.ctrl, READ);
    } else {
      this.consumed += b.frames;
      if (this.consumed >= 4 || b.end) this.reportConsumed(b.from);
    }
    if (b.end && b.id === this.playing) this.finish(b.id);
  }

  reportConsumed(port) {
    if (this.consumed > 0 && port) {
      port.postMessage({ type: 'consumed', frames: this.consumed });
      this.consumed = 0;
    }
  }

  /** The next block to play, skipping cancelled speeches; null when none is ready. */
  nextBlock() {
    for (;;) {
      if (this.ctrl) {
        const r = Atomics.load(this.ctrl, READ);
        if (((Atomics.load(this.ctrl, WRITE) - r) | 0) <= 0) return null;
        const slot = (r >>> 0) % this.capacity;
        const m = slot * META_INTS;
        const b = {
          id: this.meta[m],
          pos: this.meta[m + 1],
          samples: this.data,
          off: slot * this.frameLen,
          len: this.meta[m + 2],
          end: (this.meta[m + 3] & FLAG_END) !== 0,
          slot,
        };
        if (this.cancelled.has(b.id)) {
          Atomics.store(this.ctrl, READ, (r + 1) | 0);
          Atomics.notify(this.ctrl, READ);
          continue;
        }
        return b;
      }
      const b = this.queue.shift();
      if (!b) return null;
      if (this.cancelled.has(b.id)) {
        this.consumed += b.frames;
        this.reportConsumed(b.from);
        continue;
      }
      return b;
    }
  }

  /** The next source sample, or null (nothing ready). */
  pull() {
    for (;;) {
      const b = this.block;
      if (b && this.bi < b.len) {
        return b.samples[b.off + this.bi++];
      }
      if (b) this.release();
      const n = this.nextBlock();
      if (!n) return null;
      this.block = n;
      this.bi = 0;
      if (n.id !== this.playing) this.begin(n.id);
      this.speech.pos = n.pos;
    }
  }

  begin(id) {
    this.playing = id;
    this.speech = { id, peak: 0, sumsq: 0, samples: 0, audible: false, pos: 0, vol: this.volumes.get(id) ?? 1 };
    this.port.postMessage({ type: 'start', id, time: currentTime });
  }

  finish(id) {
    const s = this.speech;
    this.port.postMessage({
      type: 'end',
      id,
      time: currentTime,
      peak: s ? s.peak : 0,
      rms: s && s.samples ? Math.sqrt(s.sumsq / s.samples) : 0,
      samples: s ? s.samples : 0,
      underruns: this.underruns,
    });
    this.playing = -1;
    this.speech = null;
  }

  process(inputs, outputs) {
    const out = outputs[0];
    const ch0 = out[0];
    const n = ch0.length;
    let starved = false;
    let i = 0;
    for (; i < n; i++) {
      while (this.t >= 1) {
        const s = this.pull();
        if (s === null) {
          starved = true;
          break;
        }
        this.s0 = this.s1;
        this.s1 = s;
        this.t -= 1;
      }
      if (starved) break;
      const sp = this.speech;
      const v = (this.s0 + (this.s1 - this.s0) * this.t) * (sp ? sp.vol : 1);
      ch0[i] = v;
      this.t += this.step;
      if (sp) {
        const a = v < 0 ? -v : v;
        if (a > sp.peak) sp.peak = a;
        sp.sumsq += v * v;
        sp.samples++;
        if (a > AUDIBLE) {
          this.lastAudible = currentFrame + i;
          if (!sp.audible) {
            sp.audible = true;
            this.port.postMessage({ type: 'first', id: sp.id, time: currentTime + i / sampleRate, sample: sp.pos + this.bi });
          }
        }
      }
    }
    for (; i < n; i++) ch0[i] = 0;
    // Starved in the middle of a speech (its end frame not reached yet): an underrun.
    if (starved && this.speech && this.block === null) {
      this.underruns++;
      if (this.ctrl) Atomics.add(this.ctrl, UNDERRUNS, 1);
    }
    for (let c = 1; c < out.length; c++) out[c].set(ch0);
    if (this.speech && ++this.quanta % POS_EVERY === 0) {
      this.port.postMessage({ type: 'pos', id: this.speech.id, sample: this.speech.pos + this.bi, time: currentTime, underruns: this.underruns });
    }
    if (this.consumed > 0 && this.quanta % 8 === 0) this.reportConsumed(this.framePort);
    return true;
  }
}

registerProcessor('parla', ParlaProcessor);
