// Getting a voice's bytes: from URLs (kept in the Cache API, checked with SHA-256) or given
// directly, with progress while downloading.

export const CACHE_NAME = 'parla-voices-v1';
const HASH_HEADER = 'x-parla-sha256';

/** Hex SHA-256 of some bytes (SubtleCrypto); null where it is unavailable (insecure pages). */
export async function sha256(bytes) {
  const subtle = globalThis.crypto && globalThis.crypto.subtle;
  if (!subtle) return null;
  const digest = await subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

function isBytes(x) {
  return x instanceof ArrayBuffer || ArrayBuffer.isView(x) || (typeof Blob !== 'undefined' && x instanceof Blob);
}

async function toArrayBuffer(x) {
  if (x instanceof ArrayBuffer) return x;
  if (ArrayBuffer.isView(x)) return x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength);
  return x.arrayBuffer();
}

async function openCache(enabled) {
  if (!enabled || typeof caches === 'undefined') return null;
  try {
    return await caches.open(CACHE_NAME);
  } catch {
    return null; // opaque origins, private modes
  }
}

/** Downloads `url` with progress callbacks `{url, loaded, total}`. */
async function download(url, what, onProgress) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`cannot fetch the ${what} ${url}: ${e && e.message ? e.message : e}`);
  }
  if (!res.ok) throw new Error(`cannot fetch the ${what} ${url}: HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`);
  const total = Number(res.headers.get('content-length')) || 0;
  if (!res.body || !onProgress) return res.arrayBuffer();
  const reader = res.body.getReader();
  const parts = [];
  let loaded = 0;
  let last = 0;
  onProgress({ url, what, loaded: 0, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.byteLength;
    const now = Date.now();
    if (now - last > 50) {
      last = now;
      onProgress({ url, what, loaded, total });
    }
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  onProgress({ url, what, loaded, total: total || loaded });
  return out.buffer;
}

/**
 * The bytes of one voice file: bytes as given, or a URL read from the cache (when its stored
 * hash still matches) or the network (then cached with its hash). `expected` is an optional
 * hex SHA-256 that the bytes must have.
 */
async function fileBytes(src, what, { cache, expected, onProgress }) {
  if (isBytes(src)) {
    const bytes = await toArrayBuffer(src);
    if (expected) await check(bytes, expected, what, 'the given bytes');
    return { bytes, cached: false };
  }
  const url = new URL(String(src), globalThis.location ? globalThis.location.href : undefined).href;
  const store = await openCache(cache);
  if (store) {
    const hit = await store.match(url);
    if (hit) {
      const bytes = await hit.arrayBuffer();
      const stored = hit.headers.get(HASH_HEADER);
      const actual = stored || expected ? await sha256(bytes) : null;
      const good = (!stored || actual === stored) && (!expected || actual === expected.toLowerCase());
      if (good) {
        if (onProgress) onProgress({ url, what, loaded: bytes.byteLength, total: bytes.byteLength, cached: true });
        return { bytes, cached: true, sha256: actual };
      }
      await store.delete(url); // damaged or outdated: fetch it again
    }
  }
  const bytes = await download(url, what, onProgress);
  const actual = await sha256(bytes);
  if (expected) await check(bytes, expected, what, url, actual);
  if (store) {
    const headers = { 'content-type': 'application/octet-stream' };
    if (actual) headers[HASH_HEADER] = actual;
    try {
      await store.put(url, new Response(bytes, { headers }));
    } catch {
      // Quota exceeded: the voice still works, it is just not cached.
    }
  }
  return { bytes, cached: false, sha256: actual };
}

async function check(bytes, expected, what, where, actual) {
  const got = actual || (await sha256(bytes));
  if (got === null) throw new Error(`cannot check the ${what}'s SHA-256 here (no SubtleCrypto: the page is not a secure context)`);
  if (got !== expected.toLowerCase()) {
    throw new Error(`the ${what} failed its integrity check (${where}): SHA-256 ${got}, expected ${expected.toLowerCase()}`);
  }
}

/**
 * Resolves a voice spec to `{onnx, json, config, cached}`. `voice` is the URL of a `.onnx` (its
 * `.onnx.json` beside it), or `{onnx, json}` (each a URL or bytes). `sha256` is a hex string
 * (the `.onnx`'s) or `{onnx, json}`.
 */
export async function loadVoiceFiles(voice, { cache = true, sha256: expected, onProgress } = {}) {
  if (!voice) throw new Error('no voice given');
  const spec = typeof voice === 'string' || voice instanceof URL ? { onnx: String(voice), json: String(voice) + '.json' } : voice;
  if (!spec.onnx || !spec.json) throw new Error('a voice is a URL of its .onnx, or {onnx, json}');
  const want = typeof expected === 'string' ? { onnx: expected } : expected || {};
  const [onnx, json] = await Promise.all([
    fileBytes(spec.onnx, 'voice model', { cache, expected: want.onnx, onProgress }),
    fileBytes(spec.json, 'voice config', { cache, expected: want.json, onProgress }),
  ]);
  let config;
  try {
    config = JSON.parse(new TextDecoder().decode(json.bytes));
  } catch (e) {
    throw new Error(`voice config is not valid: not JSON (${e.message})`);
  }
  const sampleRate = config && config.audio && config.audio.sample_rate;
  if (!Number.isFinite(sampleRate) || sampleRate < 8000 || sampleRate > 192000) {
    throw new Error('voice config is not valid: audio.sample_rate must be 8000..=192000 Hz');
  }
  return { onnx: onnx.bytes, json: json.bytes, config, sampleRate, cached: onnx.cached && json.cached, sha256: onnx.sha256 };
}

/** Removes every cached voice. */
export async function clearVoiceCache() {
  if (typeof caches !== 'undefined') await caches.delete(CACHE_NAME);
}
