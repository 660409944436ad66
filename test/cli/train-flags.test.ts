/**
 * `cleave train` / `cleave audit` argument handling: flags over the run file over the defaults,
 * config errors that name the field, and refusing to write into the input — through the pure option
 * builder and through the real command line (in process).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { integerArg, positiveIntegerArg, unitArg } from '../../src/cli/args.js';
import { runCli } from '../../src/cli/program.js';
import { ConfigError } from '../../src/core/errors.js';
import { readCsv } from '../../src/core/io/csv.js';
import { readNpy } from '../../src/core/io/npy.js';
import { parseRunFile, trainOptionsFromFlags } from '../../src/run/run-file.js';
import { resolveTrainerConfig } from '../../src/trainer/config.js';
import { tempDir, useCpu, writeScrapedFolder, writeSyntheticManifest } from '../run/helpers.js';

const tmp = tempDir('cleave-cli-run-');
beforeAll(useCpu);
afterAll(tmp.cleanup);
afterEach(() => vi.restoreAllMocks());

const FILE = {
  data: 'data/manifest.json',
  out: 'runs/a',
  method: 'refurb',
  seed: 5,
  epochs: 3,
  warmupEpochs: 1,
  batchSize: 16,
  noise: { rate: 0.2, kind: 'shuffle-images' },
  methods: { vse: { epochs: 7 } },
};

function errorOf(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('trainOptionsFromFlags: flags over the run file over the defaults', () => {
  const file = parseRunFile(FILE, 'run.json', '/base');

  it('takes everything from the file when no flag is given (paths relative to the file)', () => {
    const o = trainOptionsFromFlags({}, file);
    expect(o).toMatchObject({
      data: '/base/data/manifest.json',
      outDir: '/base/runs/a',
      method: 'refurb',
      seed: 5,
    });
    expect(o.noise).toEqual({ rate: 0.2, kind: 'shuffle-images' });
    const c = resolveTrainerConfig(o.config);
    expect([c.epochs, c.batchSize, c.seed, c.method]).toEqual([3, 16, 5, 'refurb']);
    // a default the file does not set
    expect(c.optimizer.learningRate).toBe(resolveTrainerConfig({}).optimizer.learningRate);
    expect(o.lossSplitPairs).toBeUndefined();
    const capped = trainOptionsFromFlags(
      {},
      parseRunFile({ ...FILE, lossSplitPairs: 500 }, 'run.json', '/base'),
    );
    expect(capped.lossSplitPairs).toBe(500);
    expect(() => parseRunFile({ ...FILE, lossSplitPairs: 1 }, 'run.json', '/base')).toThrow(/lossSplitPairs/);
  });

  it('lets each flag win, and applies the method preset and the per-method overrides under the flags', () => {
    const o = trainOptionsFromFlags({ method: 'vse', seed: 9, noiseRate: 0.5, out: '/elsewhere' }, file);
    expect(o).toMatchObject({
      method: 'vse',
      seed: 9,
      outDir: '/elsewhere',
      data: '/base/data/manifest.json',
    });
    expect(o.noise).toEqual({ rate: 0.5, kind: 'shuffle-images' });
    const c = resolveTrainerConfig(o.config);
    expect([c.epochs, c.batchSize, c.seed, c.method, c.model.head]).toEqual([
      7,
      16,
      9,
      'vse',
      'deterministic',
    ]);
    expect(
      resolveTrainerConfig(trainOptionsFromFlags({ method: 'vse', epochs: 2 }, file).config).epochs,
    ).toBe(2);
    expect(trainOptionsFromFlags({ noiseKind: 'hard', noiseSeed: 4 }, file).noise).toEqual({
      rate: 0.2,
      kind: 'hard',
      seed: 4,
    });
  });

  it('uses the defaults without a file; a bundled name stays a name', () => {
    const o = trainOptionsFromFlags({ data: 'wikipedia-xmodal', out: 'x' });
    expect(o).toMatchObject({ data: 'wikipedia-xmodal', method: 'refurb', seed: 0 });
    expect(o.noise).toBeUndefined();
    expect(parseRunFile({ data: 'wikipedia-xmodal' }, 'r.json', '/base').run.data).toBe('wikipedia-xmodal');
  });

  it('says what is missing or inconsistent', () => {
    expect(errorOf(() => trainOptionsFromFlags({ out: 'x' })).message).toMatch(/--data/);
    expect(errorOf(() => trainOptionsFromFlags({ data: 'd' })).message).toMatch(/--out/);
    expect(
      errorOf(() => trainOptionsFromFlags({ data: 'd', out: 'o', noiseKind: 'shuffle' })).message,
    ).toMatch(/--noise-rate/);
    expect(errorOf(() => trainOptionsFromFlags({ data: 'd', out: 'o', epochs: 0 })).issues[0]?.path).toBe(
      'epochs',
    );
  });

  it('names the offending field of a bad run file', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ epochs: 0 }, /run\.json is not valid:\n\s+epochs:/],
      [{ model: { embedDim: 'big' } }, /model\.embedDim:/],
      [{ epoch: 3 }, /"epoch"/],
      [{ noise: { rate: 2 } }, /noise\.rate:/],
      [
        { methods: { refurb: { warmupEpochs: -1 } } },
        /run\.json \(methods\.refurb\) is not valid:\n\s+warmupEpochs:/,
      ],
    ];
    for (const [value, message] of cases) {
      expect(() => parseRunFile(value, 'run.json')).toThrow(message);
    }
  });

  it('parses numeric flags strictly', () => {
    expect(integerArg('-3')).toBe(-3);
    expect(() => integerArg('2.5')).toThrow(/integer/);
    expect(() => positiveIntegerArg('0')).toThrow(/positive/);
    expect(unitArg('0.25')).toBe(0.25);
    for (const bad of ['1.5', '-0.1', 'half', '']) expect(() => unitArg(bad)).toThrow(/0 to 1/);
  });
});

describe('the cleave command line (in process)', () => {
  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      err.push(String(s));
      return true;
    });
    return { out, err };
  }

  it('train: flags override the run file, which overrides the defaults', async () => {
    await writeSyntheticManifest(join(tmp.dir, 'data'), { images: 60 });
    const run = join(tmp.dir, 'run.json');
    writeFileSync(
      run,
      JSON.stringify({
        data: 'data/manifest.json',
        method: 'refurb',
        seed: 5,
        epochs: 12,
        batchSize: 16,
        model: { embedDim: 8, image: { hidden: 16 }, text: { hidden: 16 } },
      }),
    );
    const out = join(tmp.dir, 'out');
    const io = capture();
    const flags = ['--method', 'vse', '--epochs', '2', '--seed', '9', '--out', out, '--no-model'];
    const code = await runCli(['node', 'cleave', '--backend', 'cpu', 'train', '--config', run, ...flags]);
    vi.restoreAllMocks();
    expect(io.err.join('')).toBe('');
    expect(code).toBe(0);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect([config.method, config.seed, config.epochs, config.batchSize, config.model.embedDim]).toEqual([
      'vse',
      9,
      2,
      16,
      8,
    ]);
    expect(config.warmupEpochs).toBe(0); // the vse preset, under the file's values
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect([report.method, report.seed, report.protocol]).toEqual(['vse', 9, 'none']);
    expect(io.out.join('')).toMatch(/\| vse +\| +none \|/);
  });

  it('train: a bad config exits 2 naming the field; writing into the input exits 1', async () => {
    const run = join(tmp.dir, 'bad.json');
    writeFileSync(run, JSON.stringify({ epochs: 0, optimizer: { learningRate: -1 } }));
    let io = capture();
    let code = await runCli(['node', 'cleave', 'train', '--config', run, '--data', 'x', '--out', 'y']);
    vi.restoreAllMocks();
    expect(code).toBe(2);
    expect(io.err.join('')).toMatch(/bad\.json is not valid:\n\s+epochs: .*\n\s+optimizer\.learningRate:/);

    const folder = join(tmp.dir, 'scraped');
    await writeScrapedFolder(folder, { n: 40 });
    io = capture();
    code = await runCli(['node', 'cleave', 'audit', folder, '--out', join(folder, 'audit')]);
    vi.restoreAllMocks();
    expect(code).toBe(1);
    expect(io.err.join('')).toMatch(/refusing to write into .*inside the input folder/);
    io = capture();
    code = await runCli(['node', 'cleave', 'train', '--data', folder, '--method', 'cca', '--out', folder]);
    vi.restoreAllMocks();
    expect(code).toBe(1);
    expect(io.err.join('')).toMatch(/refusing to write into/);
  });

  it('train → eval → score → report: a saved model reproduces its run exactly', async () => {
    const manifest = await writeSyntheticManifest(join(tmp.dir, 'reuse-data'), { images: 60 });
    const run = join(tmp.dir, 'reuse.json');
    writeFileSync(
      run,
      JSON.stringify({
        epochs: 3,
        warmupEpochs: 2,
        batchSize: 16,
        split: { folds: 2, foldEpochs: 2 },
        model: { embedDim: 8, image: { hidden: 16 }, text: { hidden: 16 } },
      }),
    );
    const out = join(tmp.dir, 'reuse-out');
    const args = ['--data', manifest, '--noise-rate', '0.3', '--seed', '2', '--out', out];
    let io = capture();
    let code = await runCli(['node', 'cleave', '--backend', 'cpu', 'train', '--config', run, ...args]);
    vi.restoreAllMocks();
    expect(io.err.join('')).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));

    io = capture();
    code = await runCli(['node', 'cleave', 'eval', '--model', out, '--data', manifest, '--json']);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    expect(JSON.parse(io.out.join(''))).toEqual(report.test);

    const scores = join(tmp.dir, 'scores.csv');
    const noiseIndex = join(out, 'noise-index.json');
    io = capture();
    code = await runCli([
      ...['node', 'cleave', 'score', '--model', out, '--data', manifest, '--split', 'train'],
      ...['--noise-index', noiseIndex, '--out', scores, '--json'],
    ]);
    vi.restoreAllMocks();
    expect(io.err.join('')).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(io.out.join(''))).toMatchObject({ scoredBy: 'training-pairs', out: scores });
    const csv = await readCsv(scores);
    expect(csv.header).toEqual(['pair', 'id', 'p_clean', 'score', 'uncertainty']);
    const post = (await readNpy(join(out, 'posteriors.npy'))).data as Float64Array;
    expect(csv.rows.map((r) => Number(r[2]))).toEqual(Array.from(post));

    io = capture();
    code = await runCli(['node', 'cleave', 'report', out]);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    expect(io.out.join('')).toContain(join(out, 'report.html'));
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('cleave train: refurb');

    // a folder without a saved split, and one that is no run at all, exit 1 naming what is missing
    io = capture();
    code = await runCli(['node', 'cleave', 'score', '--model', tmp.dir, '--data', manifest]);
    vi.restoreAllMocks();
    expect(code).toBe(1);
    expect(io.err.join('')).toMatch(/split\.json.*cleave audit, or cleave train with refurb or ncr-like/);
    io = capture();
    code = await runCli(['node', 'cleave', 'report', tmp.dir]);
    vi.restoreAllMocks();
    expect(code).toBe(1);
    expect(io.err.join('')).toMatch(/not a run folder/);
  });
});
