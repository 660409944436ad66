/**
 * The README's library example is `experiments/library-example.ts` verbatim, and it runs: on the
 * bundled Wikipedia data with 50 % shuffled captions its split must beat chance clearly and its test
 * rSum must exceed the chance level of the 693 test pairs (2 · (1 + 5 + 10) / 693 · 100 ≈ 4.6).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const example = join(root, 'experiments', 'library-example.ts');

describe('the README library example', () => {
  it('is the committed example file, verbatim', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${readFileSync(example, 'utf8')}\`\`\``);
  });

  it('runs and prints a test rSum above chance and a split AUC well above 0.5', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), example],
      { cwd: root, env: { ...process.env, CLEAVE_LOG_LEVEL: 'warn' }, timeout: 240_000 },
    );
    const m = /test rSum ([\d.]+), i2t R@1 ([\d.]+) %, split AUC ([\d.]+)/.exec(stdout);
    expect(m, stdout).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(4.6);
    expect(Number(m![3])).toBeGreaterThan(0.8);
    const p = /P\(clean\) of a loss of 0\.1 and of 0\.9: \[ '([\d.]+)', '([\d.]+)' \]/.exec(stdout);
    expect(p, stdout).not.toBeNull();
    expect(Number(p![1])).toBeGreaterThan(0.9);
    expect(Number(p![2])).toBeLessThan(0.1);
  }, 300_000);
});
