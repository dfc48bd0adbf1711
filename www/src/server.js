// The server engine, for browsers without WebAssembly: a Parla server's WebSocket stream
// `/v1/stream` speaks, this page plays. Protocol: the client sends JSON text messages
// {"type":"text","text":…}, {"type":"flush"} (end of input), {"type":"cancel"}; the server sends
// binary s16le PCM at the voice's rate and JSON events ({"type":"segment",…}, {"type":"done",…},
// {"type":"error","code":…,"message":…}). One socket per speech. Unknown messages are ignored,
// and a socket that closes before "done" fails its speech with a clear message.

import { frameLen } from './ring.js';

function base(server) {
  const origin = globalThis.location ? globalThis.location.href : 'http://localhost/';
  return new URL(server || '/', origin);
}

/** The WebSocket URL of a server's stream endpoint. */
export function streamUrl(server, params = {}) {
  const u = new URL('v1/stream', base(server).href.replace(/\/?$/, '/'));
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) u.searchParams.set(k, String(v));
  return u.href;
}

/**
 * Voices a server offers (`GET /v1/voices`), as `[{name, url}]`; [] when there is no server or it
 * answers something else. Accepts a list of names, or objects with a name/id and a url/onnx/path.
 */
export async function listServerVoices(server) {
  let body;
  try {
    const res = await fetch(new URL('v1/voices', base(server).href.replace(/\/?$/, '/')));
    if (!res.ok) return [];
    body = await res.json();
  } catch {
    return [];
  }
  const list = Array.isArray(body) ? body : body && Array.isArray(body.voices) ? body.voices : [];
  const out = [];
  for (const v of list) {
    const name = typeof v === 'string' ? v : v && (v.name || v.id || v.voice);
    if (!name || typeof name !== 'string') continue;
    const given = typeof v === 'object' ? v.url || v.onnx || v.path : null;
    const url = typeof given === 'string' && given ? given : `/voices/${name.replace(/\.onnx$/, '')}.onnx`;
    out.push({ name, url });
  }
  return out;
}

export class ServerEngine {
  constructor(tts, server, voice) {
    this.tts = tts;
    this.server = server;
    this.voice = typeof voice === 'string' ? voice.replace(/^.*\//, '').replace(/\.onnx$/, '') : undefined;
    this.sockets = new Map();
  }

  speak(h, text, options) {
    let ws;
    try {
      ws = new WebSocket(streamUrl(this.server, { voice: this.voice, speed: options.speed, speaker: options.speaker }));
    } catch (e) {
      queueMicrotask(() => h.settle('failed', { message: `cannot reach the speech server: ${e.message}` }));
      return;
    }
    ws.binaryType = 'arraybuffer';
    const s = { ws, h, pos: 0, queued: [], open: false, done: false, odd: null };
    this.sockets.set(h.id, s);
    const send = (m) => {
      if (s.open) ws.send(JSON.stringify(m));
      else s.queued.push(m);
    };
    s.send = send;
    ws.onopen = () => {
      s.open = true;
      for (const m of s.queued.splice(0)) ws.send(JSON.stringify(m));
    };
    ws.onmessage = (e) => this.onMessage(s, e.data);
    ws.onerror = () => {};
    ws.onclose = (e) => {
      this.sockets.delete(h.id);
      if (!s.done && h.state !== 'cancelled') {
        this.frames(s, new Float32Array(0), true);
        h.settle('failed', { message: `the speech server closed the stream before the end (code ${e.code}${e.reason ? ': ' + e.reason : ''})` });
      }
    };
    if (text !== null && text !== undefined) {
      send({ type: 'text', text });
      send({ type: 'flush' });
    }
  }

  push(h, piece) {
    this.sockets.get(h.id)?.send({ type: 'text', text: piece });
  }

  end(h) {
    this.sockets.get(h.id)?.send({ type: 'flush' });
  }

  cancel(h) {
    const s = this.sockets.get(h.id);
    if (!s) return;
    s.done = true;
    try {
      if (s.open) s.ws.send(JSON.stringify({ type: 'cancel' }));
      s.ws.close(1000, 'cancelled');
    } catch {
      // already closing
    }
    this.sockets.delete(h.id);
  }

  close() {
    for (const s of this.sockets.values()) this.cancel(s.h);
  }

  /** Hands samples to the worklet (no backpressure: the server paces itself). */
  frames(s, samples, end) {
    const frames = Math.ceil(samples.length / frameLen(this.tts.sampleRate)) || (end ? 1 : 0);
    if (!frames) return;
    this.tts.node.port.postMessage({ type: 'frames', id: s.h.id, pos: s.pos, samples, frames, end }, [samples.buffer]);
    s.pos += samples.length;
  }

  onMessage(s, data) {
    const h = s.h;
    if (data instanceof ArrayBuffer) {
      // s16le; an odd byte left over waits for the next message.
      let bytes = new Uint8Array(data);
      if (s.odd !== null) {
        const joined = new Uint8Array(bytes.length + 1);
        joined[0] = s.odd;
        joined.set(bytes, 1);
        bytes = joined;
        s.odd = null;
      }
      if (bytes.length % 2) {
        s.odd = bytes[bytes.length - 1];
        bytes = bytes.subarray(0, bytes.length - 1);
      }
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
      const samples = new Float32Array(bytes.length / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true) / 32768;
      h.samples += samples.length;
      this.frames(s, samples, false);
      return;
    }
    let m;
    try {
      m = JSON.parse(data);
    } catch {
      return;
    }
    if (!m || typeof m !== 'object') return;
    const rate = m.sample_rate ?? m.sampleRate;
    if (Number.isFinite(rate) && rate >= 8000 && rate !== this.tts.sampleRate) {
      this.tts.sampleRate = rate;
      h.sampleRate = rate;
      this.tts.node.port.postMessage({ type: 'rate', rate });
    }
    switch (m.type) {
      case 'segment':
        h.addEvents([{ type: 'segment', text: m.text ?? '', start: Number.isFinite(m.sample) ? m.sample : s.pos, end: m.end ?? s.pos, segment: m.index ?? 0, index: 0 }]);
        break;
      case 'word':
        if (Number.isFinite(m.start)) h.addEvents([{ type: 'word', text: m.text ?? '', start: m.start, end: m.end ?? m.start, segment: m.segment ?? 0, index: m.word ?? m.index ?? 0 }]);
        break;
      case 'done':
        s.done = true;
        this.frames(s, new Float32Array(0), true);
        try {
          s.ws.close(1000);
        } catch {
          // closing anyway
        }
        break;
      case 'error':
        s.done = true;
        this.tts.node.port.postMessage({ type: 'cancel', id: h.id });
        h.settle('failed', { message: `speech server error${m.code !== undefined ? ` ${m.code}` : ''}: ${m.message ?? 'unknown'}` });
        try {
          s.ws.close(1000);
        } catch {
          // closing anyway
        }
        break;
    }
  }
}
