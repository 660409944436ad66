import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BetaMixture } from '../../src/mixture/beta.js';
import { injectNoise } from '../../src/noise/inject.js';
import type { TrainerConfigInput } from '../../src/trainer/config.js';
import { Trainer } from '../../src/trainer/trainer.js';
import type { EpochRecord, Relabelled, SplitResult, TrainerNet } from '../../src/trainer/types.js';
import { SMALL, syntheticPairs, useCpu } from './helpers.js';

beforeAll(useCpu);

const clean = syntheticPairs({ images: 200 });
const noisy = injectNoise(clean, { rate: 0.4, kind: 'shuffle', seed: 3 }).dataset;

function weightsOf(trainer: { models: { getWeights(): tf.NamedTensorMap }[] }): Record<string, number[]> {
  const w = trainer.models[0]!.getWeights();
  const out = Object.fromEntries(Object.entries(w).map(([k, t]) => [k, Array.from(t.dataSync())]));
  tf.dispose(w);
  return out;
}

describe('Trainer', () => {
  it('vse trains every pair as clean and records one epoch each', async () => {
    const trainer = new Trainer({ ...SMALL, method: 'vse', epochs: 3 });
    const result = await trainer.fit(noisy);
    expect(trainer.history.map((h) => h.phase)).toEqual(['train', 'train', 'train']);
    expect(trainer.history.every((h) => h.split === undefined && Number.isFinite(h.loss[0]))).toBe(true);
    expect(trainer.history.every((h) => h.validation !== undefined)).toBe(true);
    expect(result.posterior).toBeUndefined();
    expect(result.models).toHaveLength(1);
    result.model.dispose();
    trainer.dispose();
  });

  it('refurb separates shuffled pairs from clean ones (held-out scores, beta mixture)', async () => {
    const trainer = new Trainer({
      ...SMALL,
      method: 'refurb',
      epochs: 6,
      warmupEpochs: 4,
      split: { source: 'heldout', folds: 3, foldEpochs: 12 },
    });
    const result = await trainer.fit(noisy);
    const last = trainer.history.at(-1)!;
    expect(last.phase).toBe('train');
    expect(last.split?.auc).toBeGreaterThan(0.9);
    expect(last.split?.trueNoiseRate).toBeCloseTo(0.4, 1);
    expect(Math.abs(last.split!.estimatedNoiseRate - 0.4)).toBeLessThan(0.15);
    expect(result.posterior).toHaveLength(noisy.train.numPairs);
    expect(result.split?.mixture).toBeInstanceOf(BetaMixture);
    result.model.dispose();
    trainer.dispose();
  });

  it('the default recipe (own scores, EMA, frozen split) separates shuffled pairs and freezes exactly', async () => {
    const splits: Float64Array[] = [];
    const trainer = new Trainer(
      { ...SMALL, epochs: 19, warmupEpochs: 15, split: { freezeAfter: 2 } },
      { callbacks: [{ onSplit: (_ctx, s: SplitResult) => void splits.push(s.posterior) }] },
    );
    const result = await trainer.fit(noisy);
    expect(trainer.config.split.source).toBe('self');
    expect(splits).toHaveLength(4);
    // epochs 15 and 16 score the pairs; from epoch 17 (= warm-up + freezeAfter) the split repeats exactly
    expect(Array.from(splits[1]!)).not.toEqual(Array.from(splits[0]!));
    expect(Array.from(splits[2]!)).toEqual(Array.from(splits[1]!));
    expect(Array.from(splits[3]!)).toEqual(Array.from(splits[1]!));
    expect(trainer.history.at(-1)!.split?.auc).toBeGreaterThan(0.9);
    result.model.dispose();
    trainer.dispose();
  });

  it('ncr-like co-trains two networks on their peer splits with a Gaussian mixture', async () => {
    const trainer = new Trainer({ ...SMALL, method: 'ncr-like', epochs: 4, warmupEpochs: 2 });
    const result = await trainer.fit(noisy);
    expect(result.models).toHaveLength(2);
    expect(trainer.history.at(-1)!.loss).toHaveLength(2);
    expect(trainer.history.at(-1)!.split?.mixture).toMatchObject({ type: 'GaussianMixture' });
    result.model.dispose();
    trainer.dispose();
  });

  it('is deterministic: the same seed gives the same history and weights', async () => {
    const config: TrainerConfigInput = { ...SMALL, epochs: 3, warmupEpochs: 2, split: { folds: 2 }, seed: 5 };
    const runs = [];
    for (let r = 0; r < 2; r++) {
      const trainer = new Trainer(config);
      const result = await trainer.fit(noisy);
      runs.push({ losses: trainer.history.map((h) => h.loss), weights: weightsOf(result) });
      result.model.dispose();
      trainer.dispose();
    }
    expect(runs[1]).toEqual(runs[0]);
    const other = new Trainer({ ...config, seed: 6 });
    const r = await other.fit(noisy);
    expect(other.history.map((h) => h.loss)).not.toEqual(runs[0]!.losses);
    r.model.dispose();
    other.dispose();
  });

  it('resumes from a checkpoint bit-for-bit', async () => {
    const config = {
      ...SMALL,
      warmupEpochs: 2,
      split: { folds: 2, ema: 0.5, source: 'self' },
      optimizer: { learningRate: 3e-3, retrainLearningRate: 1e-3 },
      seed: 8,
    } as const;
    const straight = new Trainer({ ...config, epochs: 4 });
    const a = await straight.fit(noisy);
    const dir = await mkdtemp(join(tmpdir(), 'cleave-ckpt-'));
    const first = new Trainer({ ...config, epochs: 3 });
    (await first.fit(noisy, { checkpointDir: dir })).model.dispose();
    first.dispose();
    expect((await readdir(dir)).sort()).toEqual(['best', 'epoch-0003', 'latest.json']);
    const second = new Trainer({ ...config, epochs: 4 });
    const b = await second.fit(noisy, { checkpointDir: dir, resume: true });
    expect(second.history.map((h) => h.loss)).toEqual(straight.history.map((h) => h.loss));
    expect(weightsOf(b)).toEqual(weightsOf(a));
    expect(Array.from(b.posterior!)).toEqual(Array.from(a.posterior!));
    await expect(
      new Trainer({ ...config, epochs: 4, batchSize: 16 }).fit(noisy, { checkpointDir: dir, resume: true }),
    ).rejects.toThrow(/different trainer config/);
    for (const r of [a, b]) r.model.dispose();
    straight.dispose();
    second.dispose();
  });

  it('keeps the tensor count flat across epochs and calls the callbacks in order', async () => {
    const counts: number[] = [];
    const events: string[] = [];
    const trainer = new Trainer(
      {
        ...SMALL,
        epochs: 5,
        warmupEpochs: 2,
        split: { folds: 2, source: 'self' },
        warmup: { classPrediction: { weight: 0.5 }, modalityClassifier: { weight: 0.1 } },
      },
      {
        callbacks: [
          {
            onFitStart: () => void events.push('start'),
            onEpochStart: (_ctx, e) => void events.push(`epoch${e}`),
            onSplit: (_ctx, s: SplitResult, e) => void events.push(`split${e}:${s.net}`),
            onEpochEnd: (_ctx, r: EpochRecord) => {
              events.push(`end${r.epoch}`);
              counts.push(tf.memory().numTensors);
            },
            onFitEnd: () => void events.push('fit-end'),
          },
        ],
      },
    );
    const result = await trainer.fit(noisy);
    expect(events.slice(0, 4)).toEqual(['start', 'epoch0', 'end0', 'epoch1']);
    expect(events).toContain('split2:0');
    expect(events.at(-1)).toBe('fit-end');
    expect(counts[4]).toBe(counts[2]); // the train phase allocates nothing that survives an epoch
    expect(counts[1]).toBe(counts[0]);
    result.model.dispose();
    trainer.dispose();
  });

  it('keeps the best epoch on validation', async () => {
    const trainer = new Trainer({ ...SMALL, method: 'vse', epochs: 4 });
    const result = await trainer.fit(noisy);
    const rsums = trainer.history.map((h) => h.validation!.rsum);
    expect(result.bestEpoch).toBe(rsums.indexOf(Math.max(...rsums)));
    result.model.dispose();
    trainer.dispose();
  });
});

/** Exposes the relabel phase. */
class RelabelProbe extends Trainer {
  run(posterior: number[], epoch: number): Relabelled {
    const split = {
      net: 0,
      scores: new Float64Array(posterior.length),
      values: new Float64Array(posterior.length),
      scaling: { method: 'minmax' as const, low: 0, high: 1, clip: 0 },
      posterior: Float64Array.from(posterior),
      mixture: new BetaMixture(),
    };
    return this.relabel(this.nets[0] as TrainerNet, split, epoch);
  }
  async prepare(): Promise<void> {
    await this.fit(noisy); // builds the network on the training split
  }
}

describe('relabel rules', () => {
  const post = [0.9, 0.2, 0.6, 0.05];
  const probe = async (config: TrainerConfigInput) => {
    const p = new RelabelProbe({ ...SMALL, method: 'vse', epochs: 1, ...config });
    await p.prepare();
    return p;
  };
  const n = noisy.train.numPairs;
  const posterior = Array.from({ length: n }, (_, j) => post[j % 4]!);

  it('soft: y = P(clean); a floor drops pairs', async () => {
    const p = await probe({});
    const soft = p.run(posterior, 3);
    expect(soft.pairs).toHaveLength(n);
    expect(Array.from(soft.targets.slice(0, 4))).toEqual(post.map(Math.fround));
    const floored = await probe({ relabel: { floor: 0.1 } });
    const f = floored.run(posterior, 3);
    expect(Array.from(f.pairs).every((j) => posterior[j]! >= 0.1)).toBe(true);
    expect(f.pairs.length).toBe(n - Math.ceil((n - 3) / 4));
  });

  it('hard: y = 1 above the threshold, 0 below', async () => {
    const p = await probe({ relabel: { rule: 'hard', threshold: 0.5 } });
    expect(Array.from(p.run(posterior, 3).targets.slice(0, 4))).toEqual([1, 0, 1, 0]);
  });

  it('ncr: clean pairs get w + (1 − w)·p_model ≥ w; noisy pairs only in the second half', async () => {
    const p = await probe({
      epochs: 10,
      relabel: { rule: 'ncr', threshold: 0.5 },
      model: { head: 'deterministic' },
      retrain: { loss: 'triplet' },
    });
    const early = p.run(posterior, 2);
    expect(Array.from(early.pairs).every((j) => posterior[j]! > 0.5)).toBe(true);
    early.pairs.forEach((j, k) => {
      expect(early.targets[k]!).toBeGreaterThanOrEqual(Math.fround(posterior[j]!) - 1e-6);
      expect(early.targets[k]!).toBeLessThanOrEqual(1);
    });
    const late = p.run(posterior, 6);
    expect(late.pairs).toHaveLength(n);
  });
});
