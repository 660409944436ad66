/**
 * The fault suite, through the command line as a user runs it (the package built with tsc, `node
 * dist/cli.js`): `train` and `audit` killed with SIGKILL at seeded random moments and then resumed or
 * rerun must leave exactly the outputs of an uninterrupted run and no debris; a full disk (an
 * injected ENOSPC in the atomic writer: no root or tmpfs needed) fails with a cleave error and a rerun
 * recovers; and every CLI error path prints `cleave: <message>` (commander's usage errors too) naming the
 * file, field or flag — never a stack trace — with the input untouched.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli as runCliInProcess } from '../../src/cli/program.js';
import { tempDir, writeScrapedFolder, writeSyntheticManifest } from '../run/helpers.js';
import {
  buildScratchPackage,
  type CliResult,
  debris,
  freshDir,
  ROUNDS,
  runCli,
  STACK_LINE,
  seeded,
  snapshot,
  stableJson,
} from './helpers.js';

const tmp = tempDir('cleave-faults-');
let pkg: { root: string; cleanup: () => void };
let runFile: string;
let scraped: string;
/** An uninterrupted `train` (trainArgs) and how long it took. */
let reference: { dir: string; ms: number };

beforeAll(async () => {
  pkg = buildScratchPackage();
  runFile = join(tmp.dir, 'run.json');
  writeFileSync(runFile, JSON.stringify({ warmupEpochs: 1 }));
  scraped = join(tmp.dir, 'scraped');
  await writeScrapedFolder(scraped, { n: 120, rate: 0.2 });
  const dir = freshDir(tmp.dir, 'train-ref');
  const ref = await cli(trainArgs(dir));
  ok(ref);
  reference = { dir, ms: ref.ms };
}, 180_000);
afterAll(() => {
  pkg?.cleanup();
  tmp.cleanup();
});

const cli = (args: string[], options?: Parameters<typeof runCli>[2]) => runCli(pkg.root, args, options);
const trainArgs = (out: string, ...more: string[]) => [
  'train',
  '--data',
  'myntra-fashionclip-99',
  '--config',
  runFile,
  '--epochs',
  '3',
  '--checkpoint',
  '--out',
  out,
  ...more,
];
const auditArgs = (out: string, ...more: string[]) => [
  'audit',
  scraped,
  '--config',
  runFile,
  '--epochs',
  '3',
  '--formats',
  'csv,parquet,jsonl',
  '--out',
  out,
  ...more,
];

/** The CLI in this process (`runCli` of src/cli/program.ts), with stderr captured. */
async function inProcess(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  Object.assign(process.env, env);
  try {
    const code = await runCliInProcess([
      'node',
      'cleave',
      '--backend',
      'cpu',
      '--log-level',
      'silent',
      ...args,
    ]);
    return { code, stderr };
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
    spy.mockRestore();
    out.mockRestore();
  }
}

function ok(r: CliResult): void {
  expect(r.stderr).not.toMatch(STACK_LINE);
  expect(r.code, r.stderr).toBe(0);
}

/**
 * Same files, same bytes (JSON files compared without their timings), and no debris. `figures: false`
 * compares only the names of the figures: vega numbers its clip paths per process, so a figure drawn
 * in this process (after others) differs in those ids from the same figure drawn by a fresh CLI.
 */
function expectSameOutputs(dir: string, reference: string, options: { figures?: boolean } = {}): void {
  const got = snapshot(dir);
  const want = snapshot(reference);
  expect(debris(got)).toEqual([]);
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const file of Object.keys(want)) {
    if (file.endsWith('.json')) {
      const strip = (v: unknown) => {
        const o = v as { warnings?: string[] };
        if (o && Array.isArray(o.warnings)) o.warnings = o.warnings.filter((w) => !w.startsWith('--resume'));
        return o;
      };
      expect(strip(stableJson(join(dir, file))), file).toEqual(strip(stableJson(join(reference, file))));
    } else if (options.figures === false && /\.(svg|png)$/.test(file)) continue;
    else expect(got[file], file).toBe(want[file]);
  }
}

describe('fault suite: kill -9, full disk, every error path (CLI)', () => {
  it('train killed at random moments resumes to the uninterrupted run’s outputs, with no debris', async () => {
    const random = seeded(15);
    for (let round = 0; round < ROUNDS; round++) {
      const out = freshDir(tmp.dir, `train-kill-${round}`);
      const delay = Math.round(reference.ms * (0.2 + 0.75 * random()));
      const killed = await cli(trainArgs(out), { killAfterMs: delay });
      expect(killed.stderr).not.toMatch(STACK_LINE);
      const resumed = await cli(trainArgs(out, '--resume'));
      ok(resumed);
      expectSameOutputs(out, reference.dir);
    }
  });

  it('audit killed at random moments and rerun leaves the uninterrupted run’s outputs, with no debris', async () => {
    const before = snapshot(scraped);
    // the uninterrupted audit runs in this process (the same code and backend as the CLI's)
    const auditRef = freshDir(tmp.dir, 'audit-ref');
    expect((await inProcess(auditArgs(auditRef))).code).toBe(0);
    const random = seeded(7);
    for (let round = 0; round < ROUNDS; round++) {
      const out = freshDir(tmp.dir, `audit-kill-${round}`);
      await cli(auditArgs(out), { killAfterMs: Math.round(reference.ms * (0.2 + 0.75 * random())) });
      ok(await cli(auditArgs(out)));
      expectSameOutputs(out, auditRef, { figures: false });
    }
    expect(snapshot(scraped)).toEqual(before);
  });

  it('a full disk fails with a cleave error naming the file, leaves no debris, and a rerun recovers', async () => {
    // while writing the outputs, after training
    const late = freshDir(tmp.dir, 'disk-late');
    const r1 = await inProcess(trainArgs(late), { CLEAVE_FAULT_INJECT: 'ENOSPC:report.json' });
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/cleave: cannot write \S*report\.json: the disk is full/);
    expect(r1.stderr).not.toMatch(STACK_LINE);
    expect(debris(snapshot(late))).toEqual([]);
    expect((await inProcess(trainArgs(late))).code).toBe(0);
    expectSameOutputs(late, reference.dir, { figures: false });
    // while checkpointing, during training: --resume finishes the run
    const mid = freshDir(tmp.dir, 'disk-mid');
    const r2 = await inProcess(trainArgs(mid), { CLEAVE_FAULT_INJECT: 'ENOSPC:epoch-0002' });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/cleave: cannot write \S*epoch-0002\S*: the disk is full/);
    expect(debris(snapshot(mid))).toEqual([]);
    expect((await inProcess(trainArgs(mid, '--resume'))).code).toBe(0);
    expectSameOutputs(mid, reference.dir, { figures: false });
  }, 240_000); // several CLI runs that train: minutes on a loaded 2-core machine

  it('every CLI error path names the file, field or flag and what to do — never a stack trace', async () => {
    const base = freshDir(tmp.dir, 'errors');
    const file = join(base, 'a-file');
    writeFileSync(file, 'x');
    const badJson = join(base, 'bad.json');
    writeFileSync(badJson, '{ "epochs": ');
    const badField = join(base, 'field.json');
    writeFileSync(badField, JSON.stringify({ epochs: -1 }));
    const longWarmup = join(base, 'long-warmup.json');
    writeFileSync(longWarmup, JSON.stringify({ warmupEpochs: 5 }));
    const diverge = join(base, 'diverge.json');
    // from-scratch encoders (CLIP inputs would otherwise get residual adapters and their own step size)
    const blowUp = { warmupEpochs: 1, sharedSpace: false, optimizer: { learningRate: 1e9 } };
    writeFileSync(diverge, JSON.stringify(blowUp));
    // with PCME++'s σ encoder on the features, σ² stays finite and the means collapse instead
    const collapse = join(base, 'collapse.json');
    writeFileSync(collapse, JSON.stringify({ ...blowUp, model: { uncertainty: { input: 'features' } } }));
    const manifest = await writeSyntheticManifest(join(base, 'synthetic'), { images: 120 });
    const raw = JSON.parse(readFileSync(manifest, 'utf8'));
    const range = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => a + k);
    const overlap = join(base, 'synthetic', 'overlap.json');
    writeFileSync(
      overlap,
      JSON.stringify({ ...raw, split: { by: 'images', train: range(0, 100), test: range(50, 120) } }),
    );
    const noImages = join(base, 'synthetic', 'no-images.json');
    writeFileSync(noImages, JSON.stringify({ ...raw, images: 'missing.npy' }));
    const emptyDir = join(base, 'empty');
    mkdirSync(emptyDir);
    const damaged = freshDir(tmp.dir, 'damaged');
    ok(await cli(trainArgs(damaged)));
    writeFileSync(join(damaged, 'checkpoints', 'latest.json'), '{"epoch": 2, "pa');
    const inputs = snapshot(join(base, 'synthetic'));

    const out = join(base, 'out');
    const myntra = ['--data', 'myntra-fashionclip-99'];
    const cases: { args: string[]; code: number; says: RegExp[] }[] = [
      { args: ['train', '--out', out], code: 2, says: [/--data/, /required/] },
      { args: ['train', ...myntra], code: 2, says: [/--out/, /required/] },
      {
        args: ['train', '--data', 'nope', '--out', out],
        code: 1,
        says: [/nope: not found/, /bundled dataset name/],
      },
      {
        args: ['train', '--data', emptyDir, '--out', out],
        code: 1,
        says: [/empty: is a folder without img_emb/],
      },
      { args: ['train', '--data', noImages, '--out', out], code: 1, says: [/missing\.npy: not found/] },
      {
        args: ['train', ...myntra, '--out', file],
        code: 1,
        says: [/a-file: it is an existing file/, /choose another/],
      },
      {
        args: ['train', ...myntra, '--out', join(file, 'x')],
        code: 1,
        says: [/a-file\/x: a part of this path is a file/],
      },
      {
        args: ['train', ...myntra, '--out', '/proc/cleave'],
        code: 1,
        says: [/\/proc is a system folder/, /--out/],
      },
      {
        args: ['train', ...myntra, '--config', join(base, 'none.json'), '--out', out],
        code: 1,
        says: [/none\.json: not found/],
      },
      {
        args: ['train', ...myntra, '--config', badJson, '--out', out],
        code: 1,
        says: [/bad\.json: is not valid JSON/],
      },
      {
        args: ['train', ...myntra, '--config', badField, '--out', out],
        code: 2,
        says: [/field\.json/, /epochs/],
      },
      {
        args: ['train', ...myntra, '--epochs', '0', '--out', out],
        code: 1,
        says: [/--epochs/, /positive integer/],
      },
      {
        args: ['train', ...myntra, '--bogus', '--out', out],
        code: 1,
        says: [/unknown option '--bogus'/],
      },
      {
        args: ['train', ...myntra, '--method', 'x', '--out', out],
        code: 1,
        says: [/--method/, /choices/],
      },
      {
        args: ['train', '--data', overlap, '--out', out],
        code: 1,
        says: [/'train' and 'test' share 50 images/, /--allow-split-overlap/],
      },
      {
        args: ['train', ...myntra, '--config', collapse, '--epochs', '3', '--out', out],
        code: 3,
        says: [/training collapsed/, /epoch 2/, /optimizer\.learningRate/],
      },
      {
        args: ['train', ...myntra, '--config', diverge, '--epochs', '3', '--out', out],
        code: 3,
        says: [/training diverged/, /σ² summed/, /epoch 0/, /optimizer\.learningRate/],
      },
      {
        args: ['train', ...myntra, '--config', runFile, '--epochs', '4', '--resume', '--out', damaged],
        code: 1,
        says: [/latest\.json: cannot read/, /remove/],
      },
      {
        args: ['audit', scraped, '--out', join(scraped, 'audit')],
        code: 1,
        says: [/refusing to write into/, /outside the input/],
      },
      {
        // (a default warm-up scales with --epochs; an explicit one longer than the run is an error)
        args: ['audit', scraped, '--config', longWarmup, '--epochs', '1', '--out', out],
        code: 2,
        says: [/warmupEpochs: must not exceed epochs \(1\)/],
      },
      {
        args: ['audit', scraped, '--formats', 'xml', '--out', out],
        code: 1,
        says: [/--formats/, /'xml': use csv, parquet, jsonl/],
      },
      {
        args: ['train', ...myntra, '--noise-kind', 'hard', '--out', out],
        code: 2,
        says: [/--noise-kind .* need a noise rate/],
      },
      {
        args: ['audit', scraped, '--threshold', '2', '--out', out],
        code: 1,
        says: [/--threshold/, /from 0 to 1/],
      },
      { args: ['--backend', 'webgpu', 'info'], code: 1, says: [/webgpu/] },
      {
        args: trainArgs(join(base, 'full')),
        code: 1,
        says: [/cannot write \S+: the disk is full/],
      },
    ];
    // in this process (fast: dist/cli.js only sets process.exitCode to what runCli returns); the kill
    // tests above run real processes
    for (const c of cases) {
      const env: Record<string, string> = c.args.includes(join(base, 'full'))
        ? { CLEAVE_FAULT_INJECT: 'ENOSPC:*' }
        : {};
      const r = await inProcess(c.args, env);
      const what = `cleave ${c.args.join(' ')}\n${r.stderr}`;
      expect(r.stderr, what).not.toMatch(STACK_LINE);
      expect(r.stderr, what).not.toMatch(/unexpected error/);
      expect(r.stderr, what).toMatch(/^cleave: /m);
      for (const s of c.says) expect(r.stderr, what).toMatch(s);
      expect(r.code, what).toBe(c.code);
    }
    expect(snapshot(join(base, 'synthetic'))).toEqual(inputs);
    expect(readFileSync(file, 'utf8')).toBe('x');
    expect(existsSync(join(scraped, 'audit'))).toBe(false);
  }, 240_000); // several CLI runs that train: minutes on a loaded 2-core machine
});
