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

// The reference fixtures ($LW_SHARED_DIR/reference/fixtures, as for the
// end-to-end tests).
export function fixturesDir() {
  const shared = process.env.LW_SHARED_DIR || path.join(repo, '..', 'shared');
  const dir = path.join(shared, 'reference', 'fixtures');
  if (!fs.existsSync(path.join(dir, 'search30', 'learnwares'))) {
    throw new Error(`no reference fixtures at ${dir}: set LW_SHARED_DIR to the shared folder`);
  }
  return dir;
}

// DIR/dock holding `count` table learnwares of the search30 fixture (10
// described columns each; the model sums them) and the heterogeneous map
// they train (few steps: this checks the UI, not the map's quality), as
// tests/e2e/hetero_cli.sh makes it.  Also a user's RKME of 5 other columns
// (the first 5 of gmm_n1000_d10.csv), whose descriptions are "feature 0"
// .. "feature 4".  Returns {dock, userRkme}.
export function makeHeteroDock(dir, count = 20) {
  const fixtures = fixturesDir();
  const market = path.join(fixtures, 'search30', 'learnwares');
  const model = JSON.stringify({format: 'learnware-model', version: 1, kind: 'linear', task: 'regression',
    input_dim: 10, output_dim: 1, layers: [{weights: [Array(10).fill(1)], bias: [0], activation: 'identity'}]});
  const zips = [];
  for (let i = 0; i < count; i++) {
    const id = String(i).padStart(8, '0');
    const d = path.join(dir, 'hetero-src', id);
    fs.mkdirSync(d, {recursive: true});
    fs.copyFileSync(path.join(market, `${id}.rkme.json`), path.join(d, 'stat_spec.json'));
    fs.copyFileSync(path.join(market, `${id}.semantic.json`), path.join(d, 'semantic_specification.json'));
    fs.writeFileSync(path.join(d, 'model.json'), model);
    const zip = path.join(dir, 'hetero-src', `${id}.zip`);
    lw('pack', d, '-o', zip, '-q', '--kind', 'linear', '--model-file', 'model.json', '--input-shape', '10',
      '--output-shape', '1', '--semantic', 'semantic_specification.json');
    zips.push(zip);
  }
  const dock = path.join(dir, 'dock');
  lw('dock', 'init', dock);
  lw('dock', 'add', '-d', dock, '-q', '--hetero-steps', '30', ...zips);
  const csv = path.join(dir, 'user5.csv');
  const lines = fs.readFileSync(path.join(fixtures, 'gmm_n1000_d10.csv'), 'utf8').split('\n').filter(Boolean);
  fs.writeFileSync(csv, `${lines.slice(0, 300).map((l) => l.split(',').slice(0, 5).join(',')).join('\n')}\n`);
  const userRkme = path.join(dir, 'user5.json');
  lw('spec', 'table', csv, '-o', userRkme, '-k', '20', '-q');
  return {dock, userRkme};
}

// A text RKME of a few lines (`learnware spec text`).
export function makeTextRkme(dir, name, lines) {
  const txt = path.join(dir, `${name}.txt`);
  fs.writeFileSync(txt, `${lines.join('\n')}\n`);
  const out = path.join(dir, `${name}.json`);
  lw('spec', 'text', txt, '-o', out, '-q');
  return out;
}

// `learnware serve` on a free port with DIR/dock (a fresh one unless made
// before) and a first admin.
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
