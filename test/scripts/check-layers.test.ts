/**
 * scripts/check-layers.mjs (part of `npm run lint`): an import from a higher or a sibling layer, an
 * import cycle and an over-long file without a reason each fail it; the repository's own src/ passes.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const script = join(root, 'scripts/check-layers.mjs');
const made: string[] = [];

/** A throw-away src/ tree of the given files; returns the check's exit code and output. */
function check(files: Record<string, string>): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cleave-layers-'));
  made.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, 'src', path)), { recursive: true });
    writeFileSync(join(dir, 'src', path), text);
  }
  const run = spawnSync(process.execPath, [script, join(dir, 'src')], { cwd: dir, encoding: 'utf8' });
  return { status: run.status, out: run.stdout + run.stderr };
}

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const lines = (n: number) => Array.from({ length: n }, (_, i) => `export const x${i} = ${i};`).join('\n');

describe('check-layers', () => {
  it('passes a tree whose imports point down', () => {
    const r = check({
      'core/errors.ts': 'export class E extends Error {}\n',
      'mixture/beta.ts': "import { E } from '../core/errors.js';\nexport const b = E;\n",
      'trainer/trainer.ts': "import { b } from '../mixture/beta.js';\nexport const t = b;\n",
      'run/run.ts': "import { t } from '../trainer/trainer.js';\nexport const r = t;\n",
      'cli/program.ts': "import { r } from '../run/run.js';\nexport const p = r;\n",
      'index.ts': "export { p } from './cli/program.js';\nexport * from './mixture/beta.js';\n",
    });
    expect(r.out).toContain('ok');
    expect(r.status).toBe(0);
  });

  it('fails an import from a higher layer, naming the file and line', () => {
    const r = check({
      'core/io.ts': "\nimport { t } from '../trainer/trainer.js';\nexport const io = t;\n",
      'trainer/trainer.ts': 'export const t = 1;\n',
    });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/src\/core\/io\.ts:2: core imports from a higher layer, trainer/);
  });

  it('fails an import between sibling layers (mixture, noise, eval)', () => {
    const r = check({
      'eval/metrics.ts': "import { n } from '../noise/inject.js';\nexport const m = n;\n",
      'noise/inject.ts': 'export const n = 1;\n',
    });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/eval imports from a sibling layer, noise/);
  });

  it('fails an import cycle, type-only imports included', () => {
    const r = check({
      'trainer/a.ts': "import type { B } from './b.js';\nexport type A = { b?: B };\n",
      'trainer/b.ts': "import type { A } from './a.js';\nexport type B = { a?: A };\n",
    });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/import cycle: .*trainer\/a\.ts → .*trainer\/b\.ts → .*trainer\/a\.ts/);
  });

  it('fails a file over 500 lines unless its top says why', () => {
    const long = check({ 'core/big.ts': lines(520) });
    expect(long.status).toBe(1);
    expect(long.out).toMatch(/src\/core\/big\.ts: 520 lines \(over 500\)/);
    const explained = check({ 'core/big.ts': `// Long file: one table of kernels.\n${lines(520)}` });
    expect(explained.status).toBe(0);
  });

  it('fails a folder that is no layer', () => {
    const r = check({ 'utils/x.ts': 'export const x = 1;\n' });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/folder src\/utils is not a layer/);
  });

  it('ignores imports written in doc comments', () => {
    const r = check({
      'core/a.ts': "/**\n * import { t } from '../trainer/trainer.js';\n */\nexport const a = 1;\n",
      'trainer/trainer.ts': 'export const t = 1;\n',
    });
    expect(r.status).toBe(0);
  });
});
