// The encoder link (www/src/link.js) between two threads, in Node: the caller blocks on
// Atomics.wait as the synthesis worker does, and a worker thread answers as the encoder worker
// does. Answers arrive whole and in order, the shared buffer grows for long ones, and an error on
// the serving side reaches the caller as its message, without breaking later calls.

import test from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { createLink, linkCaller } from '../../www/src/link.js';

const LINK = new URL('../../www/src/link.js', import.meta.url).href;

// The serving side: answers [sum of ids, the three scales, speaker, noise length], then `ids[0]`
// more values (i × 0.5), so a caller can ask for a long answer; speaker 7 throws.
const SERVER = `
import { workerData } from 'node:worker_threads';
import { serveLink } from '${LINK}';
serveLink(workerData, (ids, scales, speaker, noise) => {
  if (speaker === 7) throw new Error('speaker 7 is not in this voice');
  const out = new Float32Array(6 + ids[0]);
  out.set([ids.reduce((a, b) => a + b, 0), scales[0], scales[1], scales[2], speaker, noise.length]);
  for (let i = 0; i < ids[0]; i++) out[6 + i] = i * 0.5;
  return out;
});
`;

function start() {
  const link = createLink();
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(SERVER)}`), { workerData: link });
  worker.unref();
  return { call: linkCaller(link), link, worker };
}

test('answers come back whole, in order, call after call', () => {
  const { call, worker } = start();
  for (let k = 1; k <= 200; k++) {
    const ids = Int32Array.from({ length: k % 17 + 1 }, (_, i) => (i === 0 ? 3 : i + k));
    const noise = new Float32Array(2 * ids.length);
    const out = call(ids, Float32Array.of(0.667, 1, 0.8), k % 5 ? -1 : 2, noise);
    const sum = ids.reduce((a, b) => a + b, 0);
    assert.deepEqual([...out.subarray(0, 6)].map((v) => Math.round(v * 1000) / 1000), [sum, 0.667, 1, 0.8, k % 5 ? -1 : 2, 2 * ids.length], `call ${k}`);
    assert.deepEqual([...out.subarray(6)], [0, 0.5, 1]);
  }
  worker.terminate();
});

test('the shared buffer grows for an answer longer than it', () => {
  const { call, link, worker } = start();
  const before = link.byteLength;
  const long = 3 * (1 << 20); // 12 MB of floats
  const out = call(Int32Array.of(long), Float32Array.of(1, 1, 1), -1, new Float32Array(2));
  assert.equal(out.length, 6 + long);
  assert.equal(out[6 + long - 1], (long - 1) * 0.5);
  assert.ok(link.byteLength > before, `${before} → ${link.byteLength} bytes`);
  worker.terminate();
});

test("the serving side's error reaches the caller, and later calls still work", () => {
  const { call, worker } = start();
  assert.throws(() => call(Int32Array.of(1), Float32Array.of(1, 1, 1), 7, new Float32Array(2)), /speaker 7 is not in this voice/);
  const out = call(Int32Array.of(1, 2), Float32Array.of(1, 1, 1), 0, new Float32Array(4));
  assert.equal(out[0], 3);
  worker.terminate();
});
