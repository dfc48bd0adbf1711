// The frame ring between the synthesis worker (the one producer) and the AudioWorklet (the one
// consumer), in SharedArrayBuffers. Layout (the worklet reads it with its own copy of this code,
// since a worklet module is loaded on its own):
//
//   ctrl  Int32Array(8): [0] frames written, [1] frames read (both count up forever and wrap at
//         2^32; `capacity` is a power of two so slot = count mod capacity stays continuous),
//         [2] underruns (worklet), [3] reserved.
//   meta  Int32Array(capacity × 4): per slot: speech id, first sample of the frame in its speech,
//         samples used (≤ frameLen; 0 for a bare end marker), flags (1 = last frame of the speech).
//   data  Float32Array(capacity × frameLen): the samples, at the voice's rate.
//
// The producer writes a slot, then publishes it by storing the new write count; the consumer
// reads the slot, then frees it by storing the new read count and notifying waiters.

export const WRITE = 0;
export const READ = 1;
export const UNDERRUNS = 2;
export const CTRL_INTS = 8;
export const META_INTS = 4;
export const FLAG_END = 1;

/** Samples in a 10 ms frame (rounded up), as the core's `frames::frame_len`. */
export function frameLen(sampleRate) {
  return Math.max(1, Math.ceil(sampleRate / 100));
}

/** Allocates the shared buffers of a ring of at least `frames` frames. */
export function createRing(frames, sampleRate) {
  let capacity = 1;
  while (capacity < frames) capacity *= 2;
  const len = frameLen(sampleRate);
  return {
    capacity,
    frameLen: len,
    ctrl: new SharedArrayBuffer(CTRL_INTS * 4),
    meta: new SharedArrayBuffer(capacity * META_INTS * 4),
    data: new SharedArrayBuffer(capacity * len * 4),
  };
}

/** The producing end, used by the worker. */
export class RingWriter {
  constructor(ring) {
    this.capacity = ring.capacity;
    this.frameLen = ring.frameLen;
    this.ctrl = new Int32Array(ring.ctrl);
    this.meta = new Int32Array(ring.meta);
    this.data = new Float32Array(ring.data);
  }

  /** Slots free now. */
  free() {
    const used = (Atomics.load(this.ctrl, WRITE) - Atomics.load(this.ctrl, READ)) | 0;
    return this.capacity - used;
  }

  /** Writes one frame (the caller checked `free() > 0`): `len` samples of `src` from `offset`. */
  put(id, pos, src, offset, len, flags) {
    const w = Atomics.load(this.ctrl, WRITE);
    const slot = (w >>> 0) % this.capacity;
    const at = slot * this.frameLen;
    if (len > 0) this.data.set(src.subarray(offset, offset + len), at);
    if (len < this.frameLen) this.data.fill(0, at + len, at + this.frameLen);
    const m = slot * META_INTS;
    this.meta[m] = id;
    this.meta[m + 1] = pos;
    this.meta[m + 2] = len;
    this.meta[m + 3] = flags;
    Atomics.store(this.ctrl, WRITE, (w + 1) | 0);
  }

  /** Resolves once the consumer freed a slot (or after `ms`). */
  waitForRoom(ms) {
    const r = Atomics.load(this.ctrl, READ);
    if (this.free() > 0) return Promise.resolve();
    if (typeof Atomics.waitAsync === 'function') {
      const res = Atomics.waitAsync(this.ctrl, READ, r, ms);
      return res.async ? res.value : Promise.resolve();
    }
    return new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5)));
  }
}
