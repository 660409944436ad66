/**
 * split.json round trip without training: a fitted beta or Gaussian mixture, its normalisation and the
 * training scores, saved and loaded, give back the trainer's P(clean) bit for bit; a pair digest tells
 * the training pairs from others; a damaged file names itself.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PairDataset } from '../../src/core/dataset/pair-dataset.js';
import { Rng } from '../../src/core/random.js';
import { BetaMixture } from '../../src/mixture/beta.js';
import { GaussianMixture } from '../../src/mixture/gaussian.js';
import { normaliseLosses } from '../../src/mixture/normalise.js';
import { loadSplitState, pairDigest, saveSplitState, scoreWithSplit } from '../../src/run/split-state.js';
import { resolveTrainerConfig } from '../../src/trainer/config.js';
import { syntheticPairs, tempDir } from './helpers.js';

const tmp = tempDir('cleave-split-state-');
afterAll(tmp.cleanup);

/** Bimodal losses: 70 % around 1, 30 % around 4. */
function losses(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, (_, j) => (j % 10 < 7 ? 1 : 4) + 0.4 * rng.normal());
}

describe('saveSplitState / loadSplitState', () => {
  for (const method of ['refurb', 'ncr-like'] as const) {
    it(`${method}: the saved split reproduces P(clean) exactly`, async () => {
      const config = resolveTrainerConfig({ method }, 'config');
      const train = syntheticPairs({ images: 60 }).train;
      const scores = losses(train.numPairs, 1);
      const { values, fitValues, scaling } = normaliseLosses(scores, { method: config.split.normalise });
      const mixture = config.split.mixture === 'gaussian' ? new GaussianMixture() : new BetaMixture();
      mixture.fit(fitValues);
      const posterior = config.split.monotone ? mixture.monotonePosterior(values) : mixture.posterior(values);
      const dir = join(tmp.dir, method);
      await saveSplitState(dir, { net: 0, scores, values, scaling, posterior, mixture }, config, train);
      const state = await loadSplitState(dir);
      expect(state.mixture).toBeInstanceOf(
        config.split.mixture === 'gaussian' ? GaussianMixture : BetaMixture,
      );
      expect(state.json.trainingDigest).toBe(pairDigest(train));
      expect(Array.from(scoreWithSplit(state, state.trainingScores))).toEqual(Array.from(posterior));
      // new scores: the same scaling, not a refit (a loss beyond the training maximum clips at the top)
      const p = scoreWithSplit(state, [-100, 100]);
      expect(p[0]).toBeGreaterThan(0.5);
      expect(p[1]).toBeLessThan(0.5);
    });
  }

  it('the digest is SHA-256 of the documented byte stream (so saved splits keep matching); token captions too', () => {
    const train = syntheticPairs({ images: 6000 }).train; // more than one 4096-pair block
    expect(train.numPairs).toBeGreaterThan(4096);
    const hash = createHash('sha256');
    for (let start = 0; start < train.numPairs; start += 4096) {
      const pairs = Int32Array.from({ length: Math.min(4096, train.numPairs - start) }, (_, k) => start + k);
      const images = train.gatherImages(Int32Array.from(pairs, (j) => train.captionToImage[j]!));
      const captions = train.gatherCaptions(pairs);
      hash.update(Buffer.from(images.buffer, images.byteOffset, images.byteLength));
      hash.update(Buffer.from(captions.buffer, captions.byteOffset, captions.byteLength));
    }
    expect(pairDigest(train)).toBe(`sha256:${hash.digest('hex')}`);
    // token ids only: each caption's length and ids; one changed token changes the digest
    const tokens = (last: number) =>
      PairDataset.fromArrays({
        images: { data: new Float32Array([1, 2, 3, 4]), dim: 2 },
        captions: { tokens: { ids: Int32Array.from([5, 6, 7, last]), offsets: Int32Array.from([0, 1, 4]) } },
        captionToImage: Int32Array.from([0, 1]),
      });
    const want = createHash('sha256');
    for (const v of [
      [1, 2],
      [3, 4],
    ])
      want.update(Buffer.from(Float32Array.from(v).buffer));
    for (const v of [
      [1, 5],
      [3, 6, 7, 8],
    ])
      want.update(Buffer.from(Int32Array.from(v).buffer));
    expect(pairDigest(tokens(8))).toBe(`sha256:${want.digest('hex')}`);
    expect(pairDigest(tokens(9))).not.toBe(pairDigest(tokens(8)));
  });

  it('the digest tells other pairs apart; a damaged split.json names the file', async () => {
    const data = syntheticPairs({ images: 60 });
    expect(pairDigest(data.train)).toBe(pairDigest(syntheticPairs({ images: 60 }).train));
    expect(pairDigest(data.train)).not.toBe(pairDigest(data.test));
    const dir = join(tmp.dir, 'refurb');
    const json = JSON.parse(readFileSync(join(dir, 'split.json'), 'utf8'));
    writeFileSync(join(dir, 'split.json'), JSON.stringify({ ...json, scaling: { method: 'minmax' } }));
    await expect(loadSplitState(dir)).rejects.toThrow(/split\.json.*scaling\.low/s);
    await expect(loadSplitState(join(tmp.dir, 'none'))).rejects.toThrow(/split\.json.*cleave audit/);
  });
});
