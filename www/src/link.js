// The link between the synthesis worker and the encoder worker. Preparing a voice is mostly
// optimising its two halves, which take about as long as each other; the encoder worker prepares
// the encoder while the synthesis worker prepares the decoder, so a voice is ready in about half
// the time. The synthesis worker's core then asks for each encoding synchronously (from inside
// Speech.nextChunk), so the call blocks on Atomics.wait until the encoder worker answers.
//
// One call at a time, through one growable SharedArrayBuffer:
//
//   Int32[0]    state: IDLE → ASKED (caller) → DONE or FAILED (encoder worker) → IDLE (caller)
//   Int32[1]    phoneme ids in the question
//   Int32[2]    speaker (< 0: none)
//   Int32[3]    length of the answer: floats, or bytes of an error message
//   Float32[4..7)  scales (noise, length, noise width)
//   byte 32 on  the question (ids as Int32, then the noise as Float32, 2 × ids), overwritten by
//               the answer (m_p, logs_p, w_ceil as Float32) or by the error's UTF-8 bytes

const IDLE = 0;
const ASKED = 1;
const DONE = 2;
const FAILED = 3;
const BODY = 32;
const MAX_BYTES = 64 << 20;
/** A call not answered by then fails, and so does every later one. */
const CALL_TIMEOUT_MS = 30000;

/** Whether this page can link two workers: cross-origin isolated, with growable shared memory. */
export function linkSupported() {
  return globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function' && typeof SharedArrayBuffer.prototype.grow === 'function';
}

/** The shared buffer a link runs through, to post to both workers. */
export function createLink() {
  return new SharedArrayBuffer(BODY + (1 << 20), { maxByteLength: MAX_BYTES });
}

function reserve(sab, bytes) {
  if (bytes > sab.maxByteLength) throw new Error(`the encoder link cannot carry ${bytes} bytes`);
  if (sab.byteLength < bytes) sab.grow(bytes);
}

/**
 * The synthesis worker's end: the function to give `Voice.loadDecoder`. It blocks until the
 * encoder worker answers, and throws with the encoder worker's message if that failed.
 */
export function linkCaller(sab) {
  const ctl = new Int32Array(sab, 0, 4);
  let broken = null;
  return (ids, scales, speaker, noise) => {
    if (broken) throw new Error(broken);
    const n = ids.length;
    reserve(sab, BODY + 12 * n);
    new Int32Array(sab, BODY, n).set(ids);
    new Float32Array(sab, BODY + 4 * n, 2 * n).set(noise);
    new Float32Array(sab, 16, 3).set(scales);
    ctl[1] = n;
    ctl[2] = speaker;
    Atomics.store(ctl, 0, ASKED);
    Atomics.notify(ctl, 0);
    const deadline = performance.now() + CALL_TIMEOUT_MS;
    while (Atomics.load(ctl, 0) === ASKED) {
      const left = deadline - performance.now();
      if (left <= 0) {
        broken = `the encoder worker did not answer within ${CALL_TIMEOUT_MS / 1000} s`;
        throw new Error(broken);
      }
      Atomics.wait(ctl, 0, ASKED, left);
    }
    const len = ctl[3];
    const failed = Atomics.load(ctl, 0) === FAILED;
    // Copied out: TextDecoder refuses shared memory, and the next call overwrites it.
    const answer = failed ? new Uint8Array(sab, BODY, len).slice() : new Float32Array(sab, BODY, len).slice();
    Atomics.store(ctl, 0, IDLE);
    if (failed) throw new Error(new TextDecoder().decode(answer));
    return answer;
  };
}

/**
 * The encoder worker's end: answers calls with `encode(ids, scales, speaker, noise)` (which
 * returns a Float32Array or throws) for good. The worker does nothing else from then on.
 */
export function serveLink(sab, encode) {
  const ctl = new Int32Array(sab, 0, 4);
  for (;;) {
    const state = Atomics.load(ctl, 0);
    if (state !== ASKED) {
      Atomics.wait(ctl, 0, state);
      continue;
    }
    const n = ctl[1];
    let answer;
    let failed = false;
    try {
      const ids = new Int32Array(sab, BODY, n);
      const noise = new Float32Array(sab, BODY + 4 * n, 2 * n);
      answer = encode(ids, new Float32Array(sab, 16, 3), ctl[2], noise);
      reserve(sab, BODY + 4 * answer.length);
      new Float32Array(sab, BODY, answer.length).set(answer);
    } catch (e) {
      failed = true;
      answer = new TextEncoder().encode(String((e && e.message) || e)).subarray(0, 4096);
      new Uint8Array(sab, BODY, answer.length).set(answer);
    }
    ctl[3] = answer.length;
    Atomics.store(ctl, 0, failed ? FAILED : DONE);
    Atomics.notify(ctl, 0);
  }
}
