/**
 * The package as a user gets it: built with tsc into a scratch copy (package.json, dist/, the native
 * addon), then `import('cleave')` from a consumer folder (resolved through package.json `exports`)
 * and the `cleave` bin (`dist/cli.js`): `--help`, `info --json`, `--backend`, and errors.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  bin: { cleave: string };
};
let scratch: string;
let installed: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'cleave-cli-'));
  installed = join(scratch, 'node_modules', 'cleave');
  mkdirSync(installed, { recursive: true });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(
    process.execPath,
    [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(installed, 'dist')],
    {
      stdio: 'pipe',
    },
  );
  copyFileSync(join(root, 'package.json'), join(installed, 'package.json'));
  symlinkSync(join(root, 'native'), join(installed, 'native'));
  // the package's own dependencies, as npm would install them next to it
  symlinkSync(join(root, 'node_modules'), join(installed, 'node_modules'));
}, 120_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(installed, pkg.bin.cleave), ...args], {
    encoding: 'utf8',
    env: { ...process.env, CLEAVE_BACKEND: '', CLEAVE_LOG_LEVEL: 'silent', ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the built package', () => {
  it("resolves import('cleave') through package.json exports, from a consumer's folder", () => {
    const consumer = join(scratch, 'app.mjs');
    writeFileSync(
      consumer,
      "const m = await import('cleave');\nconsole.log(JSON.stringify({ v: m.VERSION, f: [typeof m.initBackend, typeof m.createOptimizer, typeof m.getBackendInfo] }));\n",
    );
    const out = execFileSync(process.execPath, [consumer], { cwd: scratch, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ v: pkg.version, f: ['function', 'function', 'function'] });
  });

  it('ships type declarations for the public API', () => {
    const dts = readFileSync(join(installed, 'dist', 'index.d.ts'), 'utf8');
    expect(dts).toMatch(/initBackend/);
    expect(dts).toMatch(/createOptimizer/);
  });
});

describe('the cleave command', () => {
  it('--help lists the subcommands and the global options', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Commands:[\s\S]*\binfo\b/);
    expect(r.stdout).toMatch(/--backend <name>/);
    expect(r.stdout).toMatch(/--log-level <level>/);
  });

  it('info --json prints the version, the chosen backend and why, and every backend', () => {
    const r = cli(['info', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as {
      version: string;
      backend: { name: string; reason: string; requested: string };
      backends: { name: string; available: boolean; detail: string }[];
    };
    expect(info.version).toBe(pkg.version);
    expect(info.backend.requested).toBe('auto');
    expect(info.backend.name).toBe('cpu-blas');
    expect(info.backend.reason).toMatch(/^auto: /);
    expect(info.backends.map((b) => b.name)).toEqual(['webgpu', 'tensorflow', 'cpu-blas', 'wasm', 'cpu']);
    expect(info.backends.find((b) => b.name === 'cpu')!.available).toBe(true);
  });

  it('--backend forces a backend (before or after the subcommand); CLEAVE_BACKEND too', () => {
    const before = JSON.parse(cli(['--backend', 'cpu', 'info', '--json']).stdout);
    expect(before.backend).toMatchObject({ name: 'cpu', source: 'option' });
    const after = JSON.parse(cli(['info', '--json', '--backend', 'wasm']).stdout);
    expect(after.backend).toMatchObject({ name: 'wasm' });
    const env = JSON.parse(cli(['info', '--json'], { CLEAVE_BACKEND: 'cpu' }).stdout);
    expect(env.backend).toMatchObject({ name: 'cpu', source: 'env' });
  });

  it('a forced backend that cannot start exits 1 with the reason and the fix, no stack trace', () => {
    const r = cli(['--backend', 'tensorflow', 'info']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^cleave: backend 'tensorflow' was requested .*cannot start: .*npm install @tensorflow\/tfjs-node/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('rejects unknown backends and log levels as usage errors (non-zero exit, the choices listed)', () => {
    const bad = cli(['--backend', 'cuda', 'info']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Allowed choices are auto, webgpu, tensorflow, cpu-blas, wasm, cpu/);
    const env = cli(['info'], { CLEAVE_BACKEND: 'cuda' });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/CLEAVE_BACKEND=cuda is not a backend/);
    const level = cli(['--log-level', 'loud', 'info']);
    expect(level.code).not.toBe(0);
    expect(level.stderr).toMatch(/use one of trace, debug/);
  });

  it('info prints a readable table', () => {
    const r = cli(['info']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^cleave ${pkg.version.replace(/\./g, '\\.')} `));
    expect(r.stdout).toMatch(/\* cpu-blas/);
    expect(r.stdout).toMatch(/- tensorflow .*\n\s+fix: npm install/);
  });

  it('logs: JSON lines when stderr is not a terminal, readable lines with --log-format pretty', () => {
    const info = { CLEAVE_LOG_LEVEL: 'info', CLEAVE_LOG_FORMAT: '' };
    const piped = cli(['info'], info); // spawnSync: stderr is a pipe, not a TTY
    expect(piped.code).toBe(0);
    const lines = piped.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ name: 'cleave' });

    const pretty = cli(['--log-format', 'pretty', 'info'], info);
    expect(pretty.code).toBe(0);
    expect(pretty.stderr).toMatch(/^backend: compute backend: cpu-blas/m);
    expect(pretty.stderr).not.toMatch(/"level"|\{"/);
    const env = cli(['info'], { ...info, CLEAVE_LOG_FORMAT: 'pretty' });
    expect(env.stderr).toMatch(/^backend: compute backend/m);
    const bad = cli(['--log-format', 'xml', 'info']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Allowed choices are pretty, json/);
  });
});
