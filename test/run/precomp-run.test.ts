/**
 * A `*_precomp` folder end to end from the command line: `--data <dir>_precomp`, `--noise-file`
 * (written on the first run, replayed on the second, NCR's `.npy` format), `--folds 5` in
 * report.json; and the fold numbers against a numpy reference of NCR's `fold5` rule
 * (test/reference/precomp_folds.py → fixtures/precomp/folds.json).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { PairDataset } from '../../src/core/dataset/pair-dataset.js';
import { writeSyntheticPrecomp } from '../../src/core/dataset/synthetic-precomp.js';
import { readNpy } from '../../src/core/io/npy.js';
import { loadPrecomp } from '../../src/core/io/precomp.js';
import { CrossModalModel } from '../../src/core/model/model.js';
import { scoreWithSavedModel } from '../../src/run/reuse.js';
import { loadSplitState } from '../../src/run/split-state.js';
import { trainAndReport } from '../../src/run/train-and-report.js';
import { embedDataset } from '../../src/trainer/embed.js';
import { evaluateRetrieval } from '../../src/trainer/evaluate.js';
import { tempDir, useCpu } from './helpers.js';

const tmp = tempDir('cleave-precomp-run-');
beforeAll(useCpu);
afterAll(tmp.cleanup);
afterEach(() => vi.restoreAllMocks());

interface Side {
  r1: number;
  r5: number;
  r10: number;
  medianRank: number;
  meanRank: number;
}
interface FoldRef {
  images: number;
  captionsPerImage: number;
  dim: number;
  folds: number;
  imageEmbeddings: number[];
  captionEmbeddings: number[];
  perFold: { i2t: Side; t2i: Side; rsum: number }[];
  mean: { i2t: Side; t2i: Side; rsum: number };
}

const ref = JSON.parse(
  readFileSync(new URL('../reference/fixtures/precomp/folds.json', import.meta.url), 'utf8'),
) as FoldRef;

function compareSide(got: Side, want: Side, what: string) {
  for (const k of ['r1', 'r5', 'r10', 'medianRank', 'meanRank'] as const) {
    expect(got[k], `${what} ${k}`).toBeCloseTo(want[k], 6);
  }
}

describe("the fold protocol against NCR's fold5 rule (numpy)", () => {
  it('per fold and mean, as the report computes them', async () => {
    const n = ref.images;
    const k = ref.captionsPerImage;
    const data = PairDataset.fromArrays({
      images: { data: new Float32Array(n), dim: 1 },
      captions: { data: new Float32Array(n * k), dim: 1 },
      captionToImage: Int32Array.from({ length: n * k }, (_, j) => Math.floor(j / k)),
    });
    const embeddings = {
      images: Float32Array.from(ref.imageEmbeddings),
      captions: Float32Array.from(ref.captionEmbeddings),
      dim: ref.dim,
    };
    const got = await evaluateRetrieval(undefined as unknown as CrossModalModel, data, {
      embeddings,
      folds: ref.folds,
    });
    expect(got.folds).toHaveLength(ref.folds);
    got.folds!.forEach((f, i) => {
      compareSide(f.i2t, ref.perFold[i]!.i2t, `fold ${i} i2t`);
      compareSide(f.t2i, ref.perFold[i]!.t2i, `fold ${i} t2i`);
      expect(f.rsum).toBeCloseTo(ref.perFold[i]!.rsum, 6);
    });
    compareSide(got.i2t, ref.mean.i2t, 'mean i2t');
    compareSide(got.t2i, ref.mean.t2i, 'mean t2i');
    expect(got.rsum).toBeCloseTo(ref.mean.rsum, 6);
  });
});

describe('cleave train --data <dir>_precomp', () => {
  function capture() {
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      err.push(String(s));
      return true;
    });
    return err;
  }

  it('writes a noise file, replays it, and reports 5 folds that match the saved model', async () => {
    const dir = await writeSyntheticPrecomp(join(tmp.dir, 'data'), {
      shape: 'f30k',
      scale: 0.002,
      regions: 3,
      imageDim: 24,
      captionDim: 16,
    });
    const run = join(tmp.dir, 'run.json');
    const config = {
      data: dir,
      warmupEpochs: 1,
      epochs: 2,
      batchSize: 32,
      split: { freezeAfter: 1 },
      model: { embedDim: 8, image: { hidden: 16 }, text: { hidden: 16 } },
    };
    (await import('node:fs')).writeFileSync(run, JSON.stringify(config));
    const noiseFile = join(tmp.dir, 'noise', 'f30k_precomp_0.2.npy');
    const train = (out: string, extra: string[]) =>
      runCli([
        'node',
        'cleave',
        '--backend',
        'cpu',
        '--log-level',
        'silent',
        'train',
        '--config',
        run,
        '--noise-file',
        noiseFile,
        '--folds',
        '5',
        '--out',
        join(tmp.dir, out),
        ...extra,
      ]);
    let err = capture();
    expect(await train('first', ['--noise-rate', '0.2', '--seed', '3'])).toBe(0);
    vi.restoreAllMocks();
    expect(err.join('')).toBe('');
    const written = await readNpy(noiseFile);
    expect([written.dtype, written.shape]).toEqual(['int64', [290]]); // NCR's t2i_index: one image per caption
    const first = JSON.parse(readFileSync(join(tmp.dir, 'first', 'report.json'), 'utf8'));
    expect(first.noise).toMatchObject({ kind: 'shuffle', rate: 0.2, realisedRate: 0.2 });
    expect(first.dataset).toMatchObject({ sourceKind: 'precomp', imageDim: 24, captionDim: 16 });
    expect(first.files.noiseFile).toBe(noiseFile);

    err = capture();
    expect(await train('second', ['--seed', '4'])).toBe(0);
    vi.restoreAllMocks();
    expect(err.join('')).toBe('');
    const second = JSON.parse(readFileSync(join(tmp.dir, 'second', 'report.json'), 'utf8'));
    expect(second.noise).toMatchObject({ kind: 'published', realisedRate: 0.2 });
    const noisy1 = await readNpy(join(tmp.dir, 'first', 'noisy.npy'), { as: 'int32' });
    const noisy2 = await readNpy(join(tmp.dir, 'second', 'noisy.npy'), { as: 'int32' });
    expect(Array.from(noisy2.data)).toEqual(Array.from(noisy1.data));

    // the report's folds: 5 consecutive parts of the 10 test images, and what the saved model gives
    const folds = second.test.folds;
    expect(folds.count).toBe(5);
    expect(folds.perFold.map((f: { images: number }) => f.images)).toEqual([2, 2, 2, 2, 2]);
    const meanRsum = folds.perFold.reduce((s: number, f: { rsum: number }) => s + f.rsum, 0) / 5;
    expect(folds.mean.rsum).toBeCloseTo(meanRsum, 9);
    const model = await CrossModalModel.load(join(tmp.dir, 'second'));
    const test = (await loadPrecomp(dir, { tokens: false })).test;
    const again = await evaluateRetrieval(model, test, { embeddings: embedDataset(model, test), folds: 5 });
    model.dispose();
    expect(again.rsum).toBeCloseTo(folds.mean.rsum, 6);
    expect(again.folds!.map((f) => f.rsum)).toEqual(folds.perFold.map((f: { rsum: number }) => f.rsum));
  }, 60_000);

  it('refuses a missing noise file without a rate, and a noise file inside the input folder', async () => {
    const dir = await writeSyntheticPrecomp(join(tmp.dir, 'data2'), {
      shape: 'f30k',
      scale: 0.001,
      regions: 2,
      imageDim: 4,
      captionDim: 4,
    });
    const base = ['node', 'cleave', '--backend', 'cpu', 'train', '--data', dir, '--method', 'vse'];
    let err = capture();
    let code = await runCli([
      ...base,
      '--noise-file',
      join(tmp.dir, 'none.npy'),
      '--out',
      join(tmp.dir, 'x'),
    ]);
    vi.restoreAllMocks();
    expect(code).toBe(2);
    expect(err.join('')).toMatch(/noiseFile: .*none\.npy does not exist; give a noise rate/);
    err = capture();
    code = await runCli([
      ...base,
      '--noise-rate',
      '0.2',
      '--noise-file',
      join(dir, 'noise.npy'),
      '--out',
      join(tmp.dir, 'y'),
    ]);
    vi.restoreAllMocks();
    expect(code).toBe(2);
    expect(err.join('')).toMatch(/refusing to write .*noise\.npy inside the input folder/);
  });
});

describe('raw captions, a text encoder trained from scratch, a published noise file', () => {
  it('trains the GRU text encoder on a *_precomp folder without caption vectors', async () => {
    const dir = await writeSyntheticPrecomp(join(tmp.dir, 'raw'), {
      shape: 'f30k',
      scale: 0.002,
      regions: 2,
      imageDim: 8,
      captionDim: 0,
      noise: 0.5,
    });
    const run = join(tmp.dir, 'gru.json');
    (await import('node:fs')).writeFileSync(
      run,
      JSON.stringify({
        method: 'vse',
        epochs: 4,
        batchSize: 32,
        optimizer: { learningRate: 3e-3 },
        model: {
          embedDim: 16,
          image: { hidden: 32 },
          text: { kind: 'gru', wordDim: 16, tokenHidden: 16, hidden: 32 },
        },
      }),
    );
    const out = join(tmp.dir, 'gru');
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      err.push(String(s));
      return true;
    });
    const code = await runCli([
      'node',
      'cleave',
      '--backend',
      'cpu',
      '--log-level',
      'silent',
      'train',
      '--config',
      run,
      '--data',
      dir,
      '--noise-rate',
      '0.2',
      '--noise-file',
      join(tmp.dir, 'gru-noise.npy'),
      '--out',
      out,
    ]);
    vi.restoreAllMocks();
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.dataset.captionDim).toBe(0); // token ids only
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as { loss: number[] }[];
    expect(history.at(-1)!.loss[0]).toBeLessThan(history[0]!.loss[0]!); // it learns
    // the saved model reads token ids: its weights include the word table and both GRU directions
    const model = await CrossModalModel.load(out);
    expect(model.readsTokens).toBe(true);
    expect(model.weightNames).toEqual(
      expect.arrayContaining(['text/tokens/embedding', 'text/tokens/fwd/hidden', 'text/tokens/bwd/input']),
    );
    const test = (await loadPrecomp(dir)).test;
    const again = await evaluateRetrieval(model, test);
    model.dispose();
    expect(again.rsum).toBeCloseTo(report.test.rsum, 6);
    expect(report.test.rsum).toBeGreaterThan(100); // chance is about 60 for 10 images
  }, 60_000);

  it('refurb on raw captions: the split is fitted, saved with its pair digest, and reused', async () => {
    const dir = await writeSyntheticPrecomp(join(tmp.dir, 'raw-refurb'), {
      shape: 'f30k',
      scale: 0.002,
      regions: 2,
      imageDim: 8,
      captionDim: 0,
    });
    const out = join(tmp.dir, 'gru-refurb');
    const { report } = await trainAndReport({
      data: dir,
      outDir: out,
      noise: { rate: 0.4 },
      plots: false,
      html: false,
      config: {
        method: 'refurb',
        epochs: 2,
        warmupEpochs: 1,
        batchSize: 32,
        model: {
          embedDim: 16,
          image: { hidden: 32 },
          text: { kind: 'gru', wordDim: 16, tokenHidden: 16, hidden: 32 },
        },
      },
    });
    expect(report.dataset.captionDim).toBe(0);
    expect(report.split).toBeDefined();
    const state = await loadSplitState(out);
    const train = (await loadPrecomp(dir)).train;
    expect(state.json.trainingPairs).toBe(train.numPairs);
    // the saved split recognises the noisy training pairs it was fitted on (token ids in the digest)
    const again = await scoreWithSavedModel({
      model: out,
      data: dir,
      split: 'train',
      noiseIndex: join(out, 'noise-index.json'),
    });
    expect(again.scoredBy).toBe('training-pairs');
    // other images than the model reads: refused, naming what the token model takes
    const narrow = await writeSyntheticPrecomp(join(tmp.dir, 'raw-narrow'), {
      shape: 'f30k',
      scale: 0.002,
      regions: 2,
      imageDim: 4,
      captionDim: 0,
    });
    await expect(scoreWithSavedModel({ model: out, data: narrow, split: 'test' })).rejects.toThrow(
      /takes 8-d images and captions as token ids of a \d+-word vocabulary, the data has 4-d images and token ids/,
    );
  }, 60_000);

  it('replays the published Flickr30K caption-level index on an F30K-shaped folder', async () => {
    const dir = await writeSyntheticPrecomp(join(tmp.dir, 'full'), {
      shape: 'f30k',
      scale: 1,
      regions: 1,
      imageDim: 2,
      captionDim: 2,
      topics: 2,
    });
    const published = new URL('../reference/fixtures/noise/caption-level_f30k_0.2.npy', import.meta.url)
      .pathname;
    const out = join(tmp.dir, 'published');
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const code = await runCli([
      'node',
      'cleave',
      '--backend',
      'cpu',
      '--log-level',
      'silent',
      'train',
      '--data',
      dir,
      '--method',
      'cca',
      '--noise-file',
      published,
      '--folds',
      '5',
      '--out',
      out,
    ]);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.dataset.splits).toEqual({
      train: { images: 29000, pairs: 145000 },
      val: { images: 1000, pairs: 5000 }, // dev: 1,014 images and 5,070 captions on disk
      test: { images: 1000, pairs: 5000 },
    });
    // 20 % of the 145,000 training captions re-paired, exactly as the published file says
    expect(report.noise).toMatchObject({ kind: 'published', coveredPairs: 145000, noisyPairs: 28999 });
    const noisy = await readNpy(join(out, 'noisy.npy'), { as: 'int32' });
    const index = await readNpy(published, { as: 'int32' });
    for (const j of [0, 1, 77, 144999])
      expect(noisy.data[j]).toBe(index.data[j] === Math.floor(j / 5) ? 0 : 1);
  }, 60_000);
});

describe('--warmup-model (NCR warmup_model_path)', () => {
  it('saves the warm-up on the first run and starts the next run after it, bit for bit', async () => {
    const dir = await writeSyntheticPrecomp(join(tmp.dir, 'wu-data'), {
      shape: 'f30k',
      scale: 0.002,
      regions: 2,
      imageDim: 8,
      captionDim: 8,
    });
    const run = join(tmp.dir, 'wu.json');
    const config = {
      data: dir,
      noise: { rate: 0.2 },
      warmupEpochs: 2,
      batchSize: 32,
      model: { embedDim: 8, image: { hidden: 16 }, text: { hidden: 16 } },
    };
    (await import('node:fs')).writeFileSync(run, JSON.stringify(config));
    const warmup = join(tmp.dir, 'warmup-f30k');
    const train = (out: string, epochs: string) =>
      runCli([
        'node',
        'cleave',
        '--backend',
        'cpu',
        '--log-level',
        'silent',
        'train',
        '--config',
        run,
        '--epochs',
        epochs,
        '--warmup-model',
        warmup,
        '--out',
        join(tmp.dir, out),
      ]);
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await train('wu-a', '3')).toBe(0);
    expect(JSON.parse(readFileSync(join(warmup, 'latest.json'), 'utf8')).epoch).toBe(1);
    expect(await train('wu-b', '3')).toBe(0);
    vi.restoreAllMocks();
    type Rec = { epoch: number; phase: string; loss: number[] };
    const a = JSON.parse(readFileSync(join(tmp.dir, 'wu-a', 'history.json'), 'utf8')) as Rec[];
    const b = JSON.parse(readFileSync(join(tmp.dir, 'wu-b', 'history.json'), 'utf8')) as Rec[];
    expect(b.map((r) => r.phase)).toEqual(['warmup', 'warmup', 'train']);
    expect(b.slice(0, 2)).toEqual(a.slice(0, 2)); // the warm-up is the saved one, not retrained
    expect(b[2]!.loss).toEqual(a[2]!.loss); // and the run continues exactly as the first one did

    const err: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      err.push(String(s));
      return true;
    });
    const code = await runCli([
      'node',
      'cleave',
      'train',
      '--config',
      run,
      '--method',
      'vse',
      '--warmup-model',
      warmup,
      '--out',
      join(tmp.dir, 'wu-c'),
    ]);
    vi.restoreAllMocks();
    expect(code).toBe(2);
    expect(err.join('')).toMatch(/warmupModel: this method has no warm-up/);
  }, 60_000);
});

describe('cleave bench-data', () => {
  it('writes a *_precomp folder of the requested shape that loads as one', async () => {
    const out = join(tmp.dir, 'bench');
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      printed.push(String(s));
      return true;
    });
    const code = await runCli([
      'node',
      'cleave',
      'bench-data',
      '--shape',
      'coco',
      '--scale',
      '0.0002',
      '--regions',
      '3',
      '--image-dim',
      '5',
      '--caption-dim',
      '0',
      '--out',
      out,
    ]);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    expect(JSON.parse(printed.join('')).folder).toBe(join(out, 'coco_precomp'));
    const header = await readNpy(join(out, 'coco_precomp', 'train_ims.npy'));
    expect(header.shape).toEqual([23, 3, 5]); // round(113,287 × 0.0002) images × 3 regions × 5
    const data = await loadPrecomp(join(out, 'coco_precomp'), { test: 'testall' });
    expect(data.describe().splits).toEqual({
      train: { images: 23, pairs: 115 },
      val: { images: 10, pairs: 50 },
      test: { images: 10, pairs: 50 },
    });
    expect(data.hasCaptionFeatures).toBe(false);
    expect(data.hasCaptionTokens).toBe(true);
  });
});
