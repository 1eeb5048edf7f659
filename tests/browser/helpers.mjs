// Helpers for the browser tests: the learnware CLI, fixtures made with it,
// a `learnware serve` of our own, and headless Chromium.
import {spawn, execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..');
export const LW = process.env.LW || path.join(repo, 'build', 'learnware');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'lw-browser-'));
}

export function lw(...args) {
  return execFileSync(LW, args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
}

// Deterministic normal draws (xorshift + Box-Muller).
function rng(seed) {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

// Rows of `dim` features around `centre`, target = their sum plus noise.
function rows(n, dim, centre, seed) {
  const r = rng(seed);
  const out = [];
  for (let i = 0; i < n; i++) {
    const x = Array.from({length: dim}, () => centre + r());
    out.push([...x, x.reduce((a, b) => a + b, 0) + 0.1 * r()]);
  }
  return out;
}

function writeCsv(file, data, dim) {
  const header = [...Array.from({length: dim}, (_, j) => `x${j}`), 'target'].join(',');
  fs.writeFileSync(file, `${header}\n${data.map((r) => r.map((v) => v.toFixed(6)).join(',')).join('\n')}\n`);
}

// A linear regression learnware zip for data around `centre`; its own
// semantic specification (the UI's form may replace it) named `name`.
export function makeLearnware(dir, {slug, name, description, centre, seed, dim = 4}) {
  const d = path.join(dir, slug);
  fs.mkdirSync(d, {recursive: true});
  const csv = path.join(dir, `${slug}.csv`);
  writeCsv(csv, rows(300, dim, centre, seed), dim);
  lw('train', '--model', 'linear', csv, '--target', 'target', '-o', path.join(d, 'model.json'), '-q');
  lw('spec', 'table', csv, '--drop', 'target', '-o', path.join(d, 'rkme.json'), '-q');
  lw('semantic', 'new', '--data', 'Table', '--task', 'Regression', '--library', 'Others', '--scenario', 'Business',
    '--license', 'MIT', '--name', name, '--description', description, '--input-dim', String(dim), '--output-dim', '1',
    '-o', path.join(d, 'semantic.json'));
  const zip = path.join(dir, `${slug}.zip`);
  lw('pack', d, '-o', zip, '-q', '--kind', 'linear', '--model-file', 'model.json', '--stat-spec', 'rkme.json',
    '--semantic', 'semantic.json', '--name', slug, '--input-shape', String(dim), '--output-shape', '1');
  return zip;
}

// A user's RKME: rows drawn around each of `centres`, in equal parts.
export function makeUserRkme(dir, name, centres, dim = 4) {
  const data = centres.flatMap((c, i) => rows(200, dim, c, 1000 + i));
  const csv = path.join(dir, `${name}.csv`);
  writeCsv(csv, data, dim);
  const out = path.join(dir, `${name}.json`);
  lw('spec', 'table', csv, '--drop', 'target', '-o', out, '-q');
  return out;
}

// `learnware serve` on a free port with a fresh dock and a first admin.
export async function startServer(dir, admin) {
  const args = ['serve', '--dock', path.join(dir, 'dock'), '--listen', '127.0.0.1:0', '--set', `web_root=${path.join(repo, 'web')}`];
  const proc = spawn(LW, args, {
    env: {...process.env, LEARNWARE_ADMIN_EMAIL: admin.email, LEARNWARE_ADMIN_PASSWORD: admin.password},
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = fs.createWriteStream(path.join(dir, 'server.log'));
  proc.stderr.pipe(log);
  let out = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`learnware serve did not say where it listens in 30 s: ${out}`));
    }, 30000);
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      log.write(chunk);
      const m = out.match(/listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`learnware serve exited ${code}; see ${path.join(dir, 'server.log')}`));
    });
  });
  proc.stdout.on('data', (chunk) => log.write(chunk));
  const stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.on('exit', () => resolve());
    proc.kill('SIGTERM');
    setTimeout(() => proc.exitCode === null && proc.kill('SIGKILL'), 10000).unref();
  });
  return {url, proc, stop};
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}
