// Starts the real native server, `parla serve` (target/release/parla, built by `just build`), on an
// ephemeral loopback port, serving www/ (the demo) and models/voices/ — the same pages and voices
// the stand-in in serve.mjs serves, but from the product.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ROOT } from './serve.mjs';

export const PARLA = process.env.PARLA_BIN || path.join(ROOT, 'target/release/parla');

/** Resolves to `{ url, close }` once the server prints the address it listens on. */
export function startParlaServe(extra = []) {
  if (!fs.existsSync(PARLA)) throw new Error(`${PARLA} is missing: run \`just build\``);
  const args = ['serve', '--addr', '127.0.0.1:0', '--workers', '1', '--engine', 'native',
    '--voices', path.join(ROOT, 'models/voices'), '--www', path.join(ROOT, 'www'), ...extra];
  const child = spawn(PARLA, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error('parla serve did not start within 120 s')), 120_000);
    child.on('exit', (code) => reject(new Error(`parla serve exited with ${code}`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      const url = line.replace(/^listening on /, '').trim();
      resolve({ url, close: () => new Promise((done) => { child.once('exit', done); child.kill('SIGTERM'); }) });
    });
  });
}
