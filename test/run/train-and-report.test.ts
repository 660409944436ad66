/**
 * trainAndReport end to end on a tiny synthetic dataset: every file it writes, with the documented
 * shapes, checked against independent recomputations from the written files (a hand-written ranker
 * and Mann–Whitney AUC in this file, not the library's metrics), and the output guard.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledDataDir } from '../../src/core/dataset/bundled.js';
import { readNpy } from '../../src/core/io/npy.js';
import { CrossModalModel } from '../../src/core/model/model.js';
import { CCA } from '../../src/eval/cca.js';
import { LocalFdrSplit } from '../../src/mixture/local-fdr.js';
import { applyNoiseIndex, injectNoise } from '../../src/noise/inject.js';
import { loadNoiseIndex } from '../../src/noise/noise-index.js';
import { lossSplitSubset, type RunReport } from '../../src/run/report.js';
import { evaluateSavedModel, scoreWithSavedModel } from '../../src/run/reuse.js';
import { OutputGuard, resolveDataSource } from '../../src/run/source.js';
import { loadSplitState, scoreWithSplit } from '../../src/run/split-state.js';
import { onlyCleanTrainingPairs, trainAndReport } from '../../src/run/train-and-report.js';
import { embedDataset } from '../../src/trainer/embed.js';
import {
  SMALL,
  syntheticPairs,
  tempDir,
  useCpu,
  writeScrapedFolder,
  writeSyntheticManifest,
} from './helpers.js';

const TINY = { ...SMALL, epochs: 4, warmupEpochs: 2, split: { folds: 2, foldEpochs: 3 } };
const data = syntheticPairs({ images: 120 });
const tmp = tempDir();
beforeAll(useCpu);
afterAll(tmp.cleanup);

/** Recalls (percent) from a score function, one caption per image: rank = 1 + #{strictly better}. */
function recalls(n: number, score: (i: number, j: number) => number) {
  const r = { i2t: [0, 0, 0], t2i: [0, 0, 0] };
  const ks = [1, 5, 10];
  for (let q = 0; q < n; q++) {
    let gi = 0;
    let gt = 0;
    for (let o = 0; o < n; o++) {
      if (score(q, o) > score(q, q)) gi++;
      if (score(o, q) > score(q, q)) gt++;
    }
    ks.forEach((k, t) => {
      if (gi + 1 <= k) r.i2t[t]! += 100 / n;
      if (gt + 1 <= k) r.t2i[t]! += 100 / n;
    });
  }
  return { ...r, rsum: [...r.i2t, ...r.t2i].reduce((a, b) => a + b, 0) };
}

/** Mann–Whitney AUC of "lower P(clean) means noisy" (ties count one half). */
function aucOfPosterior(p: ArrayLike<number>, noisy: ArrayLike<number>): number {
  let wins = 0;
  let pairs = 0;
  for (let a = 0; a < p.length; a++) {
    if (!noisy[a]) continue;
    for (let b = 0; b < p.length; b++) {
      if (noisy[b]) continue;
      pairs++;
      wins += p[a]! < p[b]! ? 1 : p[a] === p[b] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

const readJson = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('trainAndReport', () => {
  it('refurb with injected noise writes every file with the documented shapes', async () => {
    const outDir = join(tmp.dir, 'refurb');
    const { report } = await trainAndReport({
      data,
      noise: { rate: 0.4, kind: 'shuffle' },
      config: { ...TINY, method: 'refurb' },
      seed: 3,
      outDir,
    });
    for (const f of [
      'report.json',
      'config.json',
      'history.json',
      'model.json',
      'weights.bin',
      'posteriors.npy',
      'noisy.npy',
      'noise-index.json',
      'mixture.svg',
      'mixture.png',
      'report.html',
      'split.json',
      'split-scores.npy',
      'calibration.svg',
      'calibration.png',
    ]) {
      expect(existsSync(join(outDir, f)), f).toBe(true);
    }
    const written = readJson<RunReport>(join(outDir, 'report.json'));
    expect(written.method).toBe('refurb');
    expect(written.protocol).toBe('caption-level');
    expect(written.seed).toBe(3);
    expect(written.noise).toMatchObject({ kind: 'shuffle', rate: 0.4, seed: 3 });
    for (const dir of ['i2t', 't2i'] as const) {
      expect(Object.keys(written.test[dir])).toEqual(expect.arrayContaining(['r1', 'r5', 'r10']));
    }
    expect(Object.keys(written.split!)).toEqual(
      expect.arrayContaining(['auc', 'ap', 'estimatedNoiseRate', 'trueNoiseRate']),
    );
    expect(written.test.classMAP?.i2t.mapAll).toBeGreaterThan(0);
    expect(written.uncertainty).toBeDefined();
    expect(written.lossSplit?.score).toBe('infonce');

    // posteriors: one P(clean) per training pair; the truth mask and the split section agree with them
    const post = await readNpy(join(outDir, 'posteriors.npy'));
    const noisy = await readNpy(join(outDir, 'noisy.npy'));
    const train = data.train.numPairs;
    expect(post.shape).toEqual([train]);
    expect(post.data).toBeInstanceOf(Float64Array);
    expect(noisy.shape).toEqual([train]);
    const mask = Array.from(noisy.data as Uint8Array);
    expect(Array.from(post.data as Float64Array).every((p) => p >= 0 && p <= 1)).toBe(true);
    expect(written.split!.trueNoiseRate).toBeCloseTo(mask.reduce((a, b) => a + b, 0) / train, 12);
    expect(written.split!.trueNoiseRate).toBeCloseTo(0.4, 1);
    expect(written.split!.auc).toBeCloseTo(aucOfPosterior(post.data as Float64Array, mask), 12);
    const implied = Array.from(post.data as Float64Array).reduce((a, p) => a + (1 - p), 0) / train;
    expect(written.split!.estimatedNoiseRate).toBeCloseTo(implied, 12);

    // the noise index reproduces the truth mask
    const index = await loadNoiseIndex(join(outDir, 'noise-index.json'));
    expect(Array.from(applyNoiseIndex(data, index).dataset.train.noise!.noisy)).toEqual(mask);

    // the saved model is the evaluated one: rank the test pairs by match probability ourselves
    const model = await CrossModalModel.load(outDir);
    const e = embedDataset(model, data.test);
    model.dispose();
    const d = e.dim;
    const sig = (ls: Float32Array, i: number) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += Math.exp(ls[i * d + k]!);
      return s;
    };
    const score = (i: number, j: number) => {
      let dist = sig(e.imageLogSigma2!, i) + sig(e.captionLogSigma2!, j);
      for (let k = 0; k < d; k++) dist += (e.images[i * d + k]! - e.captions[j * d + k]!) ** 2;
      return -dist;
    };
    const mine = recalls(data.test.numPairs, score);
    expect(written.test.scoring).toBe('match-probability');
    expect(written.test.rsum).toBeCloseTo(mine.rsum, 6);
    expect([written.test.i2t.r1, written.test.i2t.r5, written.test.i2t.r10]).toEqual(
      mine.i2t.map((v) => expect.closeTo(v, 6)),
    );

    const history = readJson<{ epoch: number; phase: string }[]>(join(outDir, 'history.json'));
    expect(history.map((h) => h.phase)).toEqual(['warmup', 'warmup', 'train', 'train']);
    expect(readJson<{ epochs: number; seed: number }>(join(outDir, 'config.json'))).toMatchObject({
      epochs: 4,
      seed: 3,
    });
    expect(Array.from(readFileSync(join(outDir, 'mixture.png')).subarray(0, 8))).toEqual(PNG);
    expect(readFileSync(join(outDir, 'mixture.svg'), 'utf8')).toMatch(/^<svg/);
    // the reliability diagram's title carries the same ECE as the report
    expect(readFileSync(join(outDir, 'calibration.svg'), 'utf8')).toContain(
      `ECE ${written.split!.ece.toFixed(3)}`,
    );
    expect(readFileSync(join(outDir, 'report.html'), 'utf8')).toContain(
      'reliability of P(clean) against the truth',
    );
    expect(report).toEqual(written);

    // reuse the saved model: eval reproduces the test section exactly (also with the 1K-style folds)
    expect(await evaluateSavedModel({ model: outDir, data })).toEqual(written.test);
    const folded = await evaluateSavedModel({ model: outDir, data, folds: 2 });
    expect(folded.images).toBe(written.test.images);
    expect(folded.rsum).not.toBe(written.test.rsum); // 2 folds of half the images: another number
    // score: the (noised) training pairs give back posteriors.npy exactly, from split.json
    const again = await scoreWithSavedModel({
      model: outDir,
      data,
      split: 'train',
      noiseIndex: join(outDir, 'noise-index.json'),
    });
    expect(again.scoredBy).toBe('training-pairs');
    expect(Array.from(again.pClean)).toEqual(Array.from(post.data as Float64Array));
    expect(again.uncertainty).toHaveLength(train);
    // new pairs (the test split) are scored by the saved model and its saved scaling and mixture
    const fresh = await scoreWithSavedModel({ model: outDir, data, split: 'test' });
    expect(fresh.scoredBy).toBe('model');
    expect(fresh.pClean).toHaveLength(data.test.numPairs);
    expect(Array.from(fresh.pClean).every((p) => p >= 0 && p <= 1)).toBe(true);
    const state = await loadSplitState(outDir);
    expect(Array.from(fresh.pClean)).toEqual(Array.from(scoreWithSplit(state, fresh.scores)));
    // without the noise index the training split is other pairs: scored by the model, not looked up
    const clean = await scoreWithSavedModel({ model: outDir, data, split: 'train' });
    expect(clean.scoredBy).toBe('model');
  });

  it('CLIP inputs: zero-shot beside the run, and eval/score reproduce the local-fdr split exactly', async () => {
    const outDir = join(tmp.dir, 'shared');
    const clip = 'myntra-fashionclip-99';
    const { report } = await trainAndReport({
      data: clip,
      noise: { rate: 0.3 },
      config: { epochs: 2, adapter: { hidden: 32 } },
      seed: 1,
      outDir,
      plots: false,
    });
    expect(report.sharedSpace).toMatchObject({ shared: true, used: true });
    expect(report.zeroShot?.test.rsum).toBeGreaterThan(0);
    expect(report.zeroShot?.splitAuc).toBeGreaterThan(0.9);
    const state = await loadSplitState(outDir);
    expect(state.mixture).toBeInstanceOf(LocalFdrSplit);
    expect(state.json.input?.weight).toBeGreaterThanOrEqual(0);
    const post = (await readNpy(join(outDir, 'posteriors.npy'))).data as Float64Array;
    expect(await evaluateSavedModel({ model: outDir, data: clip })).toEqual(report.test);
    const again = await scoreWithSavedModel({
      model: outDir,
      data: clip,
      split: 'train',
      noiseIndex: join(outDir, 'noise-index.json'),
    });
    expect(again.scoredBy).toBe('training-pairs');
    expect(Array.from(again.pClean)).toEqual(Array.from(post));
    // new pairs: scored with the saved settings (input-space score and any blend), then the saved split
    const fresh = await scoreWithSavedModel({ model: outDir, data: clip, split: 'test' });
    expect(fresh.scoredBy).toBe('model');
    expect(Array.from(fresh.pClean)).toEqual(Array.from(scoreWithSplit(state, fresh.scores)));
  });

  it('cca: the written CCA reproduces the reported test recalls; no posteriors', async () => {
    const outDir = join(tmp.dir, 'cca');
    const { report } = await trainAndReport({ data, noise: { rate: 0.4 }, method: 'cca', outDir });
    expect(report.test.scoring).toBe('cca-cosine');
    expect(report.split).toBeUndefined();
    expect(report.lossSplit?.auc).toBeGreaterThan(0.5);
    expect(existsSync(join(outDir, 'posteriors.npy'))).toBe(false);
    expect(existsSync(join(outDir, 'report.html'))).toBe(false);
    const cca = CCA.fromJSON(readJson(join(outDir, 'cca.json')));
    const k = cca.options.components;
    const zi = cca.transformX(data.test.imageMatrix());
    const zt = cca.transformY(data.test.captionMatrix());
    const norm = (z: Float32Array, i: number) => Math.hypot(...z.subarray(i * k, i * k + k));
    const score = (i: number, j: number) => {
      let s = 0;
      for (let c = 0; c < k; c++) s += zi[i * k + c]! * zt[j * k + c]!;
      return s / (norm(zi, i) * norm(zt, j));
    };
    expect(report.test.rsum).toBeCloseTo(recalls(data.test.numPairs, score).rsum, 6);
  });

  it('vse: no split section and no posteriors, but the memorisation check (lossSplit)', async () => {
    const outDir = join(tmp.dir, 'vse');
    const { report } = await trainAndReport({
      data,
      noise: { rate: 0.4, kind: 'shuffle-images', seed: 1 },
      config: { ...TINY, method: 'vse' },
      outDir,
      saveModel: false,
    });
    expect(report.protocol).toBe('image-level');
    expect(report.split).toBeUndefined();
    expect(report.lossSplit).toBeDefined();
    expect(report.lossSplit!.pairs).toBe(report.training.trainPairs);
    // capped: a seeded subset of the training pairs is rescored, its AUC from those pairs alone
    const capped = await trainAndReport({
      data,
      noise: { rate: 0.4, kind: 'shuffle-images', seed: 1 },
      config: { ...TINY, method: 'vse' },
      outDir: join(tmp.dir, 'vse-capped'),
      saveModel: false,
      lossSplitPairs: 40,
    });
    expect(capped.report.lossSplit!.pairs).toBe(40);
    const drawn = lossSplitSubset(report.training.trainPairs, 40, report.seed)!;
    expect(new Set(drawn).size).toBe(40);
    expect(Array.from(drawn)).toEqual(Array.from(drawn).sort((a, b) => a - b));
    expect(lossSplitSubset(40, 40, 0)).toBeUndefined();
    expect(capped.report.lossSplit!.auc).not.toBe(report.lossSplit!.auc);
    expect(capped.report.test.rsum).toBe(report.test.rsum);
    expect(existsSync(join(outDir, 'posteriors.npy'))).toBe(false);
    expect(existsSync(join(outDir, 'report.html'))).toBe(false);
    expect(existsSync(join(outDir, 'model.json'))).toBe(false);
    expect(existsSync(join(outDir, 'mixture.png'))).toBe(false);
  });

  it('oracle: trains vse on exactly the truly clean training pairs, evaluates on the same test split', async () => {
    const outDir = join(tmp.dir, 'oracle');
    const { report } = await trainAndReport({
      data,
      noise: { rate: 0.5, kind: 'shuffle', seed: 3 },
      method: 'oracle',
      config: TINY,
      outDir,
      saveModel: false,
    });
    const noisy = (await readNpy(join(outDir, 'noisy.npy'))).data;
    let clean = 0;
    for (const v of noisy) clean += v === 0 ? 1 : 0;
    expect(clean).toBeGreaterThan(0);
    expect(clean).toBeLessThan(noisy.length);
    expect(report.method).toBe('oracle');
    expect(report.training.trainPairs).toBe(clean);
    expect(report.split).toBeUndefined();
    expect(report.lossSplit).toBeDefined(); // the oracle's own loss, scored on every (noisy) training pair
    expect(readJson<{ method: string }>(join(outDir, 'config.json')).method).toBe('vse');
    const vse = await trainAndReport({
      data,
      noise: { rate: 0.5, kind: 'shuffle', seed: 3 },
      method: 'vse',
      config: TINY,
      outDir: join(tmp.dir, 'oracle-vse'),
      saveModel: false,
    });
    expect(report.test.images).toBe(vse.report.test.images);
    expect(vse.report.training.trainPairs).toBe(noisy.length);
  });

  it('onlyCleanTrainingPairs keeps the clean training pairs and every other split as it was', () => {
    const noisy = injectNoise(data, { rate: 0.5, kind: 'shuffle', seed: 5 });
    const truth = noisy.dataset.train.noise!.noisy;
    const narrowed = onlyCleanTrainingPairs(noisy.dataset, truth);
    const before = noisy.dataset.splitIndices('train').pairs;
    const after = narrowed.splitIndices('train').pairs;
    expect(Array.from(after)).toEqual(Array.from(before).filter((_, k) => truth[k] === 0));
    // every kept pair is paired with its own image again, by the noise module's record of the truth
    const info = noisy.dataset.noise!;
    for (const j of after) expect(noisy.dataset.captionToImage[j]).toBe(info.cleanCaptionToImage[j]);
    for (const name of ['val', 'test']) {
      expect(Array.from(narrowed.splitIndices(name).pairs)).toEqual(
        Array.from(noisy.dataset.splitIndices(name).pairs),
      );
    }
    expect(() => onlyCleanTrainingPairs(noisy.dataset, truth.subarray(1))).toThrow(/truth flags/);
  });

  it('loads a manifest, and rejects a bad trainer config naming the field', async () => {
    const manifest = await writeSyntheticManifest(join(tmp.dir, 'manifest-data'), { images: 60 });
    const outDir = join(tmp.dir, 'from-manifest');
    const { report } = await trainAndReport({
      data: manifest,
      config: { ...TINY, epochs: 1, warmupEpochs: 0, method: 'vse' },
      outDir,
    });
    expect(report.protocol).toBe('none');
    expect(report.dataset.sourceKind).toBe('manifest');
    expect(report.noise).toBeNull();
    await expect(
      trainAndReport({
        data: manifest,
        config: { epochs: -1, batchSize: 'x' },
        outDir: join(tmp.dir, 'bad'),
      }),
    ).rejects.toThrow(/epochs[\s\S]*batchSize/);
    expect(existsSync(join(tmp.dir, 'bad'))).toBe(false);
  });
});

describe("a manifest's recommended trainer settings", () => {
  it('go under the run config: the manifest fills what the run leaves open, the run wins', async () => {
    const manifest = await writeSyntheticManifest(
      join(tmp.dir, 'recommending'),
      { images: 40 },
      { trainer: { batchSize: 8, model: { embedDim: 8, image: { inputPower: 0.5 } } } },
    );
    const config = { ...TINY, epochs: 1, warmupEpochs: 0, method: 'vse' as const };
    const outDir = join(tmp.dir, 'recommended');
    await trainAndReport({ data: manifest, config: { ...config, batchSize: 16 }, outDir });
    const written = JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8'));
    expect(written.batchSize).toBe(16); // the run's value
    expect(written.model.embedDim).toBe(SMALL.model.embedDim); // the run's value
    expect(written.model.image.inputPower).toBe(0.5); // the manifest's, the run left it open
    expect(written.model.text.inputPower).toBe(1);
    const bad = await writeSyntheticManifest(
      join(tmp.dir, 'bad-recommendation'),
      { images: 40 },
      { trainer: { validateEvery: 'often' } },
    );
    await expect(trainAndReport({ data: bad, config, outDir: join(tmp.dir, 'never') })).rejects.toThrow(
      /validateEvery/,
    );
    expect(existsSync(join(tmp.dir, 'never'))).toBe(false);
  });
});

describe('the output guard', () => {
  it('refuses an output folder equal to, inside, or linked into the input folder, before writing', async () => {
    const folder = join(tmp.dir, 'scraped');
    await writeScrapedFolder(folder, { n: 40 });
    const before = readdirSync(folder).sort();
    for (const outDir of [folder, join(folder, 'runs', 'x'), join(folder, 'img_emb')]) {
      await expect(trainAndReport({ data: folder, method: 'cca', outDir })).rejects.toThrow(
        /refusing to write into/,
      );
    }
    mkdirSync(join(tmp.dir, 'links'));
    symlinkSync(folder, join(tmp.dir, 'links', 'to-input'));
    expect(
      () => new OutputGuard(join(tmp.dir, 'links', 'to-input', 'out'), resolveDataSource(folder)),
    ).toThrow(/inside the input folder/);
    expect(readdirSync(folder).sort()).toEqual(before);
    expect(existsSync(join(folder, 'runs'))).toBe(false);
  });

  it('refuses the bundled data folder and the files a manifest names', async () => {
    const bundled = join(bundledDataDir(), 'wikipedia-xmodal', 'my-run');
    await expect(
      trainAndReport({ data: 'wikipedia-xmodal', method: 'cca', outDir: bundled }),
    ).rejects.toThrow(/refusing to write into/);
    expect(existsSync(bundled)).toBe(false);
    const manifest = await writeSyntheticManifest(join(tmp.dir, 'guarded'), { images: 40 });
    const guard = new OutputGuard(join(tmp.dir, 'guarded'), resolveDataSource(manifest));
    expect(guard.path('report.json')).toBe(join(tmp.dir, 'guarded', 'report.json'));
    expect(() => guard.path('images.npy')).toThrow(/is an input of this run/);
    expect(() => guard.path('manifest.json')).toThrow(/is an input of this run/);
    expect(() => new OutputGuard(manifest, resolveDataSource(manifest))).toThrow(/input file/);
  });
});
