// Parla's encoder worker: prepares a voice's encoder while the synthesis worker (worker.js)
// prepares its decoder, then runs it for the synthesis worker through the link (link.js), and
// nothing else: from then on this worker is blocked in the link and takes no more messages.
//
// Messages in: init, load (onnx, json, link). Messages out: ready, loaded, error; fatal if the
// engine crashes while encoding (the page's speaker is then broken, as when the synthesis
// worker's engine crashes).

import init, { Encoder, lastPanic } from '../pkg/parla_web.js';
import { serveLink } from './link.js';

const post = (m) => self.postMessage(m);

function crashMessage(err) {
  let panic = null;
  try {
    panic = lastPanic();
  } catch {
    // The module is broken; the trap's own message will do.
  }
  return `the speech engine crashed${panic ? `: ${panic}` : ` (${err.message})`}`;
}

function serve(encoder, link) {
  let crashed = null;
  serveLink(link, (ids, scales, speaker, noise) => {
    if (crashed) throw new Error(crashed);
    try {
      return encoder.encode(ids, scales, speaker, noise);
    } catch (err) {
      if (!(err instanceof WebAssembly.RuntimeError)) throw err;
      crashed = crashMessage(err);
      post({ type: 'fatal', message: crashed });
      throw new Error(crashed);
    }
  });
}

self.onmessage = async (e) => {
  const m = e.data;
  try {
    if (m.type === 'init') {
      const t0 = performance.now();
      await init({ module_or_path: m.wasm });
      post({ type: 'ready', req: m.req, ms: performance.now() - t0 });
    } else if (m.type === 'load') {
      const t0 = performance.now();
      const encoder = Encoder.load(new Uint8Array(m.onnx), new Uint8Array(m.json));
      post({ type: 'loaded', req: m.req, ms: performance.now() - t0 });
      // After this turn, so nothing else is pending when the worker blocks for good.
      setTimeout(() => serve(encoder, m.link), 0);
    }
  } catch (err) {
    const message = err instanceof WebAssembly.RuntimeError ? crashMessage(err) : String((err && err.message) || err);
    post({ type: 'error', req: m.req, message });
  }
};
