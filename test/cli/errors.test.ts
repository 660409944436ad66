/**
 * The CLI's error paths that need no training, in this process (fast): each prints exactly one
 * `cleave: ` line naming the file, field, flag or variable and what to use, no stack trace, and exits
 * with its code (1 for bad input, 2 for bad options, config or environment variables). The stack
 * appears only when asked for (`--log-level debug`, `CLEAVE_DEBUG=1`), and an error that is not a
 * cleave error is called a bug to report. One path runs as a real process (`tsx src/cli.ts`). The
 * paths that train are walked by test/faults/cli.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeCliError, runCli } from '../../src/cli/program.js';
import { ConfigError, DataError, TrainingError } from '../../src/core/errors.js';
import { setLogFormat, setLogLevel } from '../../src/core/logger.js';
import { CrossModalModel } from '../../src/core/model/model.js';
import { ROOT, STACK_LINE } from '../faults/helpers.js';
import { tempDir, useCpu, writeSyntheticManifest } from '../run/helpers.js';

const tmp = tempDir('cleave-cli-errors-');
let manifest: string;
let corrupt: string;
let foreign: string;
let narrow: string;

beforeAll(async () => {
  await useCpu();
  manifest = await writeSyntheticManifest(join(tmp.dir, 'synthetic'), { images: 40 });
  corrupt = join(tmp.dir, 'corrupt');
  mkdirSync(corrupt);
  writeFileSync(join(corrupt, 'model.json'), '{"modelTopology": ');
  foreign = join(tmp.dir, 'foreign');
  mkdirSync(foreign);
  writeFileSync(
    join(foreign, 'model.json'),
    JSON.stringify({ modelTopology: { className: 'Sequential' }, weightsManifest: [] }),
  );
  // a real cleave model whose input widths are not the data's
  narrow = join(tmp.dir, 'narrow');
  const model = new CrossModalModel({ image: { inputDim: 3 }, text: { inputDim: 2 }, embedDim: 4 });
  await model.save(narrow);
  model.dispose();
}, 60_000);
afterAll(() => {
  setLogLevel('silent');
  tmp.cleanup();
});

/** `cleave ...args` in this process with `env` set (CLEAVE_BACKEND=cpu unless given), stderr captured. */
async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const all = { CLEAVE_BACKEND: 'cpu', ...env };
  const before = Object.fromEntries(Object.keys(all).map((k) => [k, process.env[k]]));
  Object.assign(process.env, all);
  try {
    return { code: await runCli(['node', 'cleave', ...args]), stderr };
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    err.mockRestore();
    out.mockRestore();
    setLogLevel('silent');
    setLogFormat(undefined);
  }
}

/** Exactly one `cleave: ` line; it (with what follows it) says every pattern; no stack trace. */
function expectOneLine(
  r: { code: number; stderr: string },
  code: number,
  says: RegExp[],
  what: string,
): void {
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('cleave: '));
  expect(lines, `${what}\n${r.stderr}`).toHaveLength(1);
  expect(r.stderr, what).not.toMatch(STACK_LINE);
  expect(r.stderr, what).not.toMatch(/unexpected error|a bug in cleave/);
  for (const s of says) expect(r.stderr, `${what}\n${r.stderr}`).toMatch(s);
  expect(r.code, `${what}\n${r.stderr}`).toBe(code);
}

describe('CLI error paths: one cleave: line, the exit code, no stack trace', () => {
  it('walks the paths that need no training', async () => {
    const quiet = ['--log-level', 'silent'];
    const cases: { args: string[]; env?: Record<string, string>; code: number; says: RegExp[] }[] = [
      {
        args: ['--backend', 'nope', 'info'],
        code: 1,
        says: [/--backend/, /'nope'/, /Allowed choices are auto/],
      },
      { args: ['--log-level', 'loud', 'info'], code: 1, says: [/--log-level/, /use one of trace, debug/] },
      {
        args: ['--log-format', 'xml', 'info'],
        code: 1,
        says: [/--log-format/, /Allowed choices are pretty, json/],
      },
      { args: ['info', '--bogus'], code: 1, says: [/unknown option '--bogus'/] },
      { args: ['nope'], code: 1, says: [/unknown command 'nope'/] },
      {
        args: ['info'],
        env: { CLEAVE_LOG_LEVEL: 'loud' },
        code: 2,
        says: [/CLEAVE_LOG_LEVEL=loud is not a log level/, /trace, debug, info, warn, error, fatal, silent/],
      },
      {
        args: [...quiet, 'info'],
        env: { CLEAVE_BACKEND: 'cuda' },
        code: 2,
        says: [/CLEAVE_BACKEND=cuda is not a backend/, /auto, webgpu/],
      },
      { args: [...quiet, 'eval', '--data', manifest], code: 1, says: [/--model/, /required/] },
      {
        args: [...quiet, 'eval', '--model', corrupt, '--data', manifest],
        code: 1,
        says: [/corrupt\/model\.json: is not valid JSON/],
      },
      {
        args: [...quiet, 'eval', '--model', join(tmp.dir, 'none'), '--data', manifest],
        code: 1,
        says: [/none: does not exist; expected a saved model folder/],
      },
      {
        args: [...quiet, 'eval', '--model', foreign, '--data', manifest],
        code: 1,
        says: [/foreign\S*: modelTopology\.className is "Sequential"/, /not a cleave model/],
      },
      {
        args: [...quiet, 'eval', '--model', narrow, '--data', manifest],
        code: 1,
        says: [
          /narrow: the model takes 3-d images and 2-d captions/,
          /give the data the model was trained on/,
        ],
      },
      {
        args: [...quiet, 'eval', '--model', narrow, '--data', manifest, '--folds', '0'],
        code: 1,
        says: [/--folds/, /positive integer/],
      },
      {
        args: [...quiet, 'report', corrupt],
        code: 1,
        says: [/corrupt: not a run folder with per-pair results/, /--out folder of cleave audit/],
      },
      {
        args: [...quiet, 'report', corrupt, '--max-rows', '-1'],
        code: 1,
        says: [/--max-rows/, /positive integer/],
      },
      {
        args: [...quiet, 'eval', '--model', narrow, '--data', join(tmp.dir, 'nothing.json')],
        code: 1,
        says: [/nothing\.json: not found/],
      },
    ];
    for (const c of cases) {
      const r = await cli(c.args, c.env);
      expectOneLine(r, c.code, c.says, `cleave ${c.args.join(' ')} ${JSON.stringify(c.env ?? {})}`);
    }
  }, 120_000);

  it('prints the stack only with --log-level debug or CLEAVE_DEBUG=1', async () => {
    const args = ['eval', '--model', corrupt, '--data', manifest];
    const plain = await cli(['--log-level', 'silent', ...args]);
    expect(plain.stderr).not.toMatch(STACK_LINE);
    // (pretty logs go through process.stderr, which cli() captures)
    const debug = await cli(['--log-level', 'debug', '--log-format', 'pretty', ...args]);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^cleave: \S*model\.json: is not valid JSON/m);
    expect(debug.stderr).toMatch(STACK_LINE);
    const env = await cli(['--log-level', 'silent', ...args], { CLEAVE_DEBUG: '1' });
    expect(env.code).toBe(1);
    expect(env.stderr).toMatch(STACK_LINE);
  }, 60_000);
});

describe('describeCliError', () => {
  it('maps cleave errors to their exit codes, one line, no stack', () => {
    expect(describeCliError(new ConfigError('run.json is not valid'), false)).toEqual({
      text: 'cleave: run.json is not valid\n',
      code: 2,
    });
    expect(describeCliError(new DataError('row 7 is NaN', { file: 'images.npy' }), false)).toEqual({
      text: 'cleave: images.npy: row 7 is NaN\n',
      code: 1,
    });
    expect(describeCliError(new TrainingError('training collapsed', 2), false).code).toBe(3);
  });

  it('calls any other error a bug to report, and adds the stack only in debug', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'shape')");
    const quiet = describeCliError(bug, false);
    expect(quiet.code).toBe(1);
    const lines = quiet.text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe("cleave: Cannot read properties of undefined (reading 'shape')");
    expect(lines[1]).toMatch(/^cleave: .*TypeError.*a bug in cleave: please report it/);
    expect(lines[1]).toMatch(/--log-level debug/);
    expect(quiet.text).not.toMatch(STACK_LINE);
    expect(describeCliError(bug, true).text).toMatch(STACK_LINE);
    expect(describeCliError('a string', false).text).toMatch(/^cleave: a string\n/);
  });
});

describe('a real process (tsx src/cli.ts)', () => {
  it('a bad CLEAVE_LOG_LEVEL exits 2 with one cleave: line naming the variable', () => {
    const tsx = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const r = spawnSync(process.execPath, [tsx, join(ROOT, 'src', 'cli.ts'), 'info'], {
      cwd: ROOT,
      env: { ...process.env, CLEAVE_LOG_LEVEL: 'Loud', CLEAVE_BACKEND: 'cpu' },
      encoding: 'utf8',
    });
    expectOneLine(
      { code: r.status ?? -1, stderr: r.stderr },
      2,
      [/^cleave: CLEAVE_LOG_LEVEL=Loud is not a log level; use one of: trace, debug/m],
      'CLEAVE_LOG_LEVEL=Loud cleave info',
    );
    expect(r.stdout).toBe('');
  }, 60_000);
});
