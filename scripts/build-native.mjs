#!/usr/bin/env node
/**
 * Builds cleave's native BLAS addon (native/cleave_blas.c → native/build/cleave_blas.node), the engine
 * of the `cpu-blas` backend. Runs as the package's `install` script and as `npm run build:native`.
 *
 * It calls the C compiler directly against Node's own headers (no node-gyp, no Python, no download),
 * links `-lopenblas` (Debian/Ubuntu: `apt-get install libopenblas-dev`), then loads the result once in a
 * child process to be sure it links at run time.
 *
 * Without a compiler, Node headers or OpenBLAS it prints ONE line saying why and how to fix it, and
 * exits 0: `npm install` never fails because of it; cleave then simply runs without `cpu-blas`.
 * With `--strict` (used by `npm run build:native`) a failed build exits 1 and prints the compiler output.
 *
 * Environment: `CC` (compiler to try first), `CLEAVE_SKIP_NATIVE=1` (skip the build),
 * `CLEAVE_BLAS_LIBS` (link flags instead of `-lopenblas`), `npm_config_nodedir` (Node headers),
 * `CLEAVE_NATIVE_OUT` (output folder instead of native/build; the tests use it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'cleave_blas.c');
const outDir = process.env.CLEAVE_NATIVE_OUT ?? join(root, 'native', 'build');
const target = join(outDir, 'cleave_blas.node');
const strict = process.argv.includes('--strict');
const FIX =
  'install OpenBLAS (`apt-get install libopenblas-dev`), then `npm rebuild cleave` (or `npm run build:native`)';

function give(reason, details) {
  // never leave an addon from older sources behind: it would not match the JS that loads it
  rmSync(target, { force: true });
  if (strict) {
    if (details) console.error(details);
    console.error(`cleave: native BLAS addon not built: ${reason}`);
    process.exit(1);
  }
  console.log(`cleave: cpu-blas backend unavailable (${reason}); to enable it, ${FIX}.`);
  process.exit(0);
}

function nodeHeaders() {
  const candidates = [
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
    join(dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  return candidates.find((dir) => existsSync(join(dir, 'node_api.h')));
}

function findCompiler() {
  const candidates = [process.env.CC, 'cc', 'gcc', 'clang', 'g++'].filter(Boolean);
  return candidates.find((cc) => spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0);
}

try {
  if (process.env.CLEAVE_SKIP_NATIVE === '1') give('CLEAVE_SKIP_NATIVE=1 is set');
  if (process.platform === 'win32') give('the native addon is built on Linux and macOS only');
  const headers = nodeHeaders();
  if (!headers) give('Node.js headers (node_api.h) not found; set npm_config_nodedir to your Node install');
  const cc = findCompiler();
  if (!cc) give('no C compiler found (install gcc, e.g. `apt-get install build-essential`)');

  mkdirSync(outDir, { recursive: true });
  const tmp = join(outDir, `cleave_blas.${process.pid}.tmp.node`);
  const libs = (process.env.CLEAVE_BLAS_LIBS ?? '-lopenblas').split(/\s+/).filter(Boolean);
  const args = [
    '-x',
    'c',
    '-std=c11',
    '-O3',
    '-fPIC',
    '-shared',
    // keep float arithmetic in the written order (no FMA contraction): the fused Adam then matches
    // tfjs's op-by-op float32 results bit for bit
    '-ffp-contract=off',
    // sqrtf without errno: lets the Adam loop vectorise (results unchanged)
    '-fno-math-errno',
    '-fvisibility=hidden',
    '-Wall',
    '-DNODE_GYP_MODULE_NAME=cleave_blas',
    `-I${headers}`,
    source,
    '-x',
    'none',
    '-o',
    tmp,
    ...libs,
  ];
  if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');
  const built = spawnSync(cc, args, { encoding: 'utf8' });
  if (built.status !== 0) {
    rmSync(tmp, { force: true });
    const out = `${built.stderr ?? ''}${built.stdout ?? ''}`;
    const noBlas = /cblas[^\s]*\.h|cannot find -l|openblas/i.test(out);
    give(noBlas ? 'OpenBLAS headers or library not found' : `the C compiler (${cc}) failed`, out);
  }
  // load it once in a fresh process: catches a library that links but cannot be loaded
  try {
    const probe = `const m=require(${JSON.stringify(tmp)});const i=m.info();console.log(i.coreName+' '+i.numThreads)`;
    const info = execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8', stdio: 'pipe' }).trim();
    renameSync(tmp, target);
    const [core, threads] = info.split(' ');
    console.log(`cleave: cpu-blas backend ready (OpenBLAS ${core}, ${threads} threads): ${target}`);
  } catch (e) {
    rmSync(tmp, { force: true });
    give('the built addon does not load (is libopenblas installed?)', String(e?.stderr ?? e));
  }
} catch (e) {
  give(`unexpected error: ${e instanceof Error ? e.message : String(e)}`);
}
