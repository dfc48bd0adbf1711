// A tiny static server for the browser tests and the benchmark: www/ at /, models/voices/ at
// /voices/. Options: COOP/COEP headers on or off (cross-origin isolation, so SharedArrayBuffer),
// and a corrupt voice at /voices/corrupt.onnx (random bytes, with the real config beside it).
//
//   node tests/web/serve.mjs [--port 8123] [--no-isolation]

import http from 'node:http';
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

/** Starts the server; resolves to `{url, close()}`. */
export function startServer({ port = 0, isolate = true, log = false } = {}) {
  const corrupt = corruptBytes();
  const server = http.createServer((req, res) => {
    const headers = { 'cache-control': 'no-store' };
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
      file = path.join(WWW, pathname);
      if (!file.startsWith(WWW + path.sep)) file = null;
    }
    fs.stat(file || '', (err, st) => {
      if (err || !st.isFile()) {
        res.writeHead(404, { ...headers, 'content-type': 'text/plain' });
        return res.end('not found');
      }
      const type = TYPES[path.extname(file)] || 'application/octet-stream';
      res.writeHead(200, { ...headers, 'content-type': type, 'content-length': st.size });
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(file).pipe(res);
    });
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
