/**
 * Fixtures of the fault suite: the package built once with tsc into a scratch folder (so every CLI run
 * starts as a user's `cleave` does, without tsx), a CLI runner that can SIGKILL the process after a
 * delay, folder snapshots, and the report fields that legitimately differ between two runs.
 *
 * The suite's intensity comes from `CLEAVE_FAULT_ROUNDS` (kill rounds per command) and
 * `CLEAVE_FAULT_RUNS` (fast-check runs): small in `npm test`, large in `npm run test:faults`
 * (`vitest.faults.config.ts`). Every random choice is seeded.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Kill rounds per command (default 1; `npm run test:faults` sets more). */
export const ROUNDS = Number(process.env.CLEAVE_FAULT_ROUNDS ?? 1);
/** fast-check runs per property (default 150; `npm run test:faults` sets more). */
export const FUZZ_RUNS = Number(process.env.CLEAVE_FAULT_RUNS ?? 150);

/** Build the package into a fresh scratch folder; returns its root (holding `dist/cli.js`). */
export function buildScratchPackage(): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'cleave-faults-pkg-'));
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(
    process.execPath,
    [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(root, 'dist')],
    {
      stdio: 'pipe',
    },
  );
  for (const name of ['package.json', 'node_modules', 'native', 'data'])
    symlinkSync(join(ROOT, name), join(root, name));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** What a CLI run left: exit code (null when killed), signal, output. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Run `node <pkg>/dist/cli.js ...args` (cpu backend, warnings on stderr); with `killAfterMs`, send
 * SIGKILL after that many milliseconds (if it still runs).
 */
export function runCli(
  pkg: string,
  args: string[],
  options: { env?: Record<string, string>; killAfterMs?: number; cwd?: string } = {},
): Promise<CliResult> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(pkg, 'dist', 'cli.js'), ...args], {
      cwd: options.cwd ?? pkg,
      env: {
        ...process.env,
        CLEAVE_BACKEND: 'cpu',
        CLEAVE_LOG_LEVEL: 'warn',
        OPENBLAS_NUM_THREADS: '1',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer =
      options.killAfterMs !== undefined
        ? setTimeout(() => child.kill('SIGKILL'), options.killAfterMs)
        : undefined;
    child.on('error', fail);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      done({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** Every file under `dir` (relative path → sha256), not following links. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else
        out[relative(dir, p)] = st.isFile()
          ? createHash('sha256').update(readFileSync(p)).digest('hex')
          : 'link';
    }
  };
  walk(dir);
  return out;
}

/** Files of a snapshot that are debris: temporary files of the atomic writer, probe files. */
export function debris(files: Record<string, string>): string[] {
  return Object.keys(files).filter((f) => /(^|\/)\.[^/]*\.tmp$|\.cleave-probe/.test(f));
}

/** A JSON file with the fields that differ between equal runs (timings, dates, per-epoch seconds) removed. */
export function stableJson(path: string): unknown {
  const drop = new Set(['timing', 'createdAt', 'seconds', 'totalSeconds']);
  return JSON.parse(readFileSync(path, 'utf8'), (key, value) => (drop.has(key) ? undefined : value));
}

/** A seeded generator of floats in [0, 1) (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh folder under `base`. */
export function freshDir(base: string, name: string): string {
  const dir = mkdtempSync(join(base, `${name}-`));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A line of a stack trace (`    at fn (file:line:col)`): never in what a user sees. */
export const STACK_LINE = /^\s+at .+(\(|:\d+:\d+)/m;
