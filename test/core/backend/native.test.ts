/**
 * The native addon's build script and loader: a machine without OpenBLAS gets one clear line and a
 * successful install (exit 0), `--strict` fails, and the loader explains a missing or broken addon.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BLAS_ABI, loadBlasAddon } from '../../../src/core/backend/native.js';

const script = fileURLToPath(new URL('../../../scripts/build-native.mjs', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'cleave-native-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function build(out: string, env: Record<string, string>, args: string[] = []) {
  return spawnSync(process.execPath, [script, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CLEAVE_NATIVE_OUT: out, ...env },
  });
}

describe('scripts/build-native.mjs', () => {
  it('builds a loadable addon of the expected interface version', () => {
    const out = join(scratch, 'ok');
    const r = build(out, {});
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/cpu-blas backend ready \(OpenBLAS \w+, \d+ threads\)/);
    const loaded = loadBlasAddon(join(out, 'cleave_blas.node'));
    expect(loaded.ok).toBe(true);
    if (loaded.ok) expect(loaded.addon.abi).toBe(BLAS_ABI);
    expect(readdirSync(out)).toEqual(['cleave_blas.node']);
  });

  it('without OpenBLAS prints one line with the fix and still exits 0 (npm install never fails)', () => {
    const out = join(scratch, 'no-blas');
    const r = build(out, { CLEAVE_BLAS_LIBS: '-lcleave_no_such_blas' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(
      /cpu-blas backend unavailable .*apt-get install libopenblas-dev.*npm rebuild cleave/,
    );
    expect(existsSync(join(out, 'cleave_blas.node'))).toBe(false);
  });

  it('with --strict (npm run build:native) fails and shows the compiler output', () => {
    const r = build(join(scratch, 'strict'), { CLEAVE_BLAS_LIBS: '-lcleave_no_such_blas' }, ['--strict']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cleave_no_such_blas/);
    expect(r.stderr).toMatch(/native BLAS addon not built/);
  });
});

describe('loadBlasAddon', () => {
  it('explains a missing addon and how to build it', () => {
    const r = loadBlasAddon(join(scratch, 'nothing-here.node'));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toMatch(/not built/);
      expect(r.fix).toMatch(/apt-get install libopenblas-dev && npm rebuild cleave/);
    }
  });

  it('explains an addon that does not load', () => {
    const broken = join(scratch, 'broken.node');
    writeFileSync(broken, 'not a shared object');
    const r = loadBlasAddon(broken);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/does not load/);
  });
});
