// The demo page: speak the text, highlight each word as it is heard, show live metrics.
// Query parameters (handy for tests): ?voice=URL, ?engine=auto|wasm|wasm-messageport|server.

import { createParla, listServerVoices, DEFAULT_VOICE } from '../src/index.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const state = { tts: null, handle: null, boundaries: [], speaks: 0, error: null, loading: null };
window.parlaDemo = state; // for tests and the curious

function showError(message) {
  state.error = message || null;
  $('error').textContent = message ? `Error: ${message}` : '';
}

function showMetrics(extra = {}) {
  const m = state.tts ? state.tts.metrics() : { engine: null, ttfa_ms: null, rtf: null, underruns: 0 };
  const round = (x, d) => (typeof x === 'number' ? Number(x.toFixed(d)) : x);
  const shown = {
    engine: m.engine,
    ttfa_ms: round(m.ttfa_ms, 1),
    rtf: round(m.rtf, 3),
    underruns: m.underruns,
    voice_ready_ms: round(m.voice_ready_ms, 0),
    ready_ms: round(m.readyMs, 0),
    wasm_ms: round(m.wasmMs, 0),
    voice_cached: m.voiceCached ?? null,
    encoder_worker_ms: round(m.encoderLoadMs ?? null, 0),
    ...extra,
  };
  $('metrics').textContent = JSON.stringify(shown, null, 1);
}

function highlight(text, from, length) {
  const el = $('spoken');
  el.textContent = '';
  if (from === null || from === undefined) {
    el.textContent = text;
    return;
  }
  const mark = document.createElement('mark');
  mark.textContent = text.slice(from, from + length);
  el.append(text.slice(0, from), mark, text.slice(from + length));
}

async function load(voice) {
  if (state.tts) {
    const old = state.tts;
    state.tts = null;
    await old.close();
  }
  $('speak').disabled = true;
  $('stop').disabled = true;
  showError('');
  const progress = $('progress');
  progress.hidden = false;
  $('status').textContent = `Loading ${voice} …`;
  try {
    const tts = await createParla({
      voice,
      engine: params.get('engine') || 'auto',
      onProgress: (p) => {
        if (p.what !== 'voice model') return;
        progress.max = p.total || 1;
        progress.value = p.loaded;
      },
    });
    tts.addEventListener('metrics', () => showMetrics());
    tts.addEventListener('error', (e) => showError(e.detail.message));
    state.tts = tts;
    $('status').textContent = `Ready: ${tts.engine} engine, ${tts.sampleRate} Hz.`;
    $('speak').disabled = false;
    showMetrics();
  } catch (e) {
    $('status').textContent = '';
    showError(e.message);
  } finally {
    progress.hidden = true;
  }
}

function speak() {
  const tts = state.tts;
  if (!tts) return;
  if (state.handle) state.handle.cancel();
  const text = $('text').value;
  const h = tts.speak(text, { speed: Number($('speed').value) });
  state.handle = h;
  state.boundaries = [];
  state.speaks++;
  $('stop').disabled = false;
  highlight(text, null);
  h.on('boundary', (b) => {
    state.boundaries.push(b);
    if (b.name === 'word') highlight(text, b.charIndex, b.charLength);
    showMetrics({ playing: true });
  });
  h.on('start', () => showMetrics({ playing: true }));
  h.done.then(
    (r) => {
      if (state.handle === h) $('stop').disabled = true;
      highlight(text, null);
      showMetrics({ playing: false, cancelled: r.cancelled, peak: r.peak === undefined ? null : Number(r.peak.toFixed(3)) });
    },
    (e) => showError(e.message),
  );
}

$('speak').addEventListener('click', speak);
$('stop').addEventListener('click', () => state.handle && state.handle.cancel());
$('voice').addEventListener('change', () => {
  state.loading = load($('voice').value);
});

(async () => {
  const picker = $('voice');
  const wanted = params.get('voice');
  const voices = wanted ? [{ name: wanted, url: wanted }] : await listServerVoices();
  if (!voices.length) voices.push({ name: 'en_US-joe-medium', url: DEFAULT_VOICE });
  for (const v of voices) picker.append(new Option(v.name, v.url));
  state.loading = load(picker.value);
})();
