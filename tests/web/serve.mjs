// A tiny static server for the browser tests and the benchmark: www/ (or another folder, such as
// a bundler's output) at /, models/voices/ at /voices/. Options: COOP/COEP headers on or off
// (cross-origin isolation, so SharedArrayBuffer).
// Always there: a corrupt voice at /voices/corrupt.onnx (random bytes, with the real config
// beside it) and a stand-in for the server's WebSocket /v1/stream (a tone, see mockStream).
//
//   node tests/web/serve.mjs [--port 8123] [--no-isolation]

import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');
const WWW = path.join(ROOT, 'www');
const VOICES = path.join(ROOT, 'models/voices');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.onnx': 'application/octet-stream',
  '.ts': 'text/plain; charset=utf-8',
};

/** Deterministic junk the size of a small model. */
function corruptBytes() {
  const out = Buffer.alloc(256 * 1024);
  let x = 12345;
  for (let i = 0; i < out.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

// A stand-in for the native server's WebSocket `/v1/stream` (the e2e tests also run the real one,
// see parla_serve.mjs), enough to test the page's server engine without a voice: text messages
// in; on flush a segment event, a tone as s16le frames at 22 050 Hz (0.25 s per word), then done;
// cancel closes.
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function wsFrame(opcode, payload) {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, n]) : Buffer.from([0x80 | opcode, 126, n >> 8, n & 255]);
  return Buffer.concat([head, payload]);
}

function mockStream(req, socket) {
  const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + WS_GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  let buf = Buffer.alloc(0);
  let text = '';
  const send = (obj) => socket.write(wsFrame(1, Buffer.from(JSON.stringify(obj))));
  const speak = () => {
    const words = text.split(/\s+/).filter(Boolean).length || 1;
    send({ type: 'segment', index: 0, text: text.trim(), sample: 0, sample_rate: 22050 });
    const total = Math.round(22050 * 0.25 * words);
    for (let at = 0; at < total; at += 2205) {
      const n = Math.min(2205, total - at);
      const pcm = Buffer.alloc(n * 2);
      for (let i = 0; i < n; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * (at + i)) / 22050)), i * 2);
      socket.write(wsFrame(2, pcm));
    }
    send({ type: 'done', samples: total });
  };
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 6) {
      const opcode = buf[0] & 15;
      let len = buf[1] & 127;
      let at = 2;
      if (len === 126) {
        len = buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        len = Number(buf.readBigUInt64BE(2));
        at = 10;
      }
      if (buf.length < at + 4 + len) return;
      const mask = buf.subarray(at, at + 4);
      const body = Buffer.from(buf.subarray(at + 4, at + 4 + len));
      for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
      buf = buf.subarray(at + 4 + len);
      if (opcode === 8) return socket.end(wsFrame(8, Buffer.alloc(0)));
      if (opcode !== 1) continue;
      const m = JSON.parse(body.toString());
      if (m.type === 'text') text += m.text;
      else if (m.type === 'flush') speak();
      else if (m.type === 'cancel') socket.end(wsFrame(8, Buffer.alloc(0)));
    }
  });
  socket.on('error', () => {});
}

/**
 * Starts the server; resolves to `{url, close()}`. Files are not kept by the browser, or with
 * `revalidate` kept and checked before each use as `parla serve` serves them (`no-cache`, 304
 * when unchanged), so that a browser with a profile on disk keeps the engine's compiled code.
 * `root` is the folder served at `/` (default: www/).
 */
export function startServer({ port = 0, isolate = true, log = false, revalidate = false, root = WWW } = {}) {
  const corrupt = corruptBytes();
  const server = http.createServer((req, res) => {
    const headers = { 'cache-control': revalidate ? 'no-cache' : 'no-store' };
    if (isolate) {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
    }
    const url = new URL(req.url, 'http://x');
    let pathname = decodeURIComponent(url.pathname);
    if (log) console.error(req.method, pathname);
    if (pathname === '/') {
      res.writeHead(302, { location: '/demo/' });
      return res.end();
    }
    if (pathname.endsWith('/')) pathname += 'index.html';
    let file;
    if (pathname === '/voices/corrupt.onnx') {
      res.writeHead(200, { ...headers, 'content-type': TYPES['.onnx'], 'content-length': corrupt.length });
      return res.end(corrupt);
    } else if (pathname === '/voices/corrupt.onnx.json') {
      file = path.join(VOICES, 'en_US-joe-medium.onnx.json');
    } else if (pathname.startsWith('/voices/')) {
      file = path.join(VOICES, pathname.slice('/voices/'.length));
      if (!file.startsWith(VOICES + path.sep)) file = null;
    } else {
      file = path.join(root, pathname);
      if (!file.startsWith(root + path.sep)) file = null;
    }
    fs.stat(file || '', (err, st) => {
      if (err || !st.isFile()) {
        res.writeHead(404, { ...headers, 'content-type': 'text/plain' });
        return res.end('not found');
      }
      const type = TYPES[path.extname(file)] || 'application/octet-stream';
      if (revalidate) {
        headers['last-modified'] = st.mtime.toUTCString();
        const since = Date.parse(req.headers['if-modified-since'] ?? '');
        if (Math.floor(st.mtimeMs / 1000) * 1000 <= since) {
          res.writeHead(304, headers);
          return res.end();
        }
      }
      res.writeHead(200, { ...headers, 'content-type': type, 'content-length': st.size });
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(file).pipe(res);
    });
  });
  server.on('upgrade', (req, socket) => {
    if (new URL(req.url, 'http://x').pathname === '/v1/stream') mockStream(req, socket);
    else socket.destroy();
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      const { port: p } = server.address();
      resolve({ url: `http://127.0.0.1:${p}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const port = Number(args[args.indexOf('--port') + 1]) || 8123;
  const s = await startServer({ port: args.includes('--port') ? port : 8123, isolate: !args.includes('--no-isolation'), log: true });
  console.log(`serving www/ and models/voices/ at ${s.url}/ (${args.includes('--no-isolation') ? 'not ' : ''}cross-origin isolated)`);
}
