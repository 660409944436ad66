import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../../../src/core/errors.js';
import { CrossModalModel } from '../../../src/core/model/model.js';
import { Rng } from '../../../src/core/random.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function randomRows(rows: number, dim: number, seed: number, offset: number, spread: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < out.length; i++) out[i] = offset + spread * (rng.float() * (1 + (i % dim)));
  return out;
}

describe('encoder input transform', () => {
  it('standardises power-transformed features to zero mean and unit variance per column', () => {
    const model = new CrossModalModel({
      image: { inputDim: 3, inputPower: 0.5, standardize: true },
      text: { inputDim: 2, standardize: true },
      seed: 1,
    });
    const img = randomRows(200, 3, 1, 0.5, 2);
    const txt = randomRows(200, 2, 2, -1, 5);
    model.fitInputStatistics(img, txt);
    for (const [encoder, data, dim, power] of [
      [model.imageEncoder, img, 3, 0.5],
      [model.textEncoder, txt, 2, 1],
    ] as const) {
      const out = tf.tidy(
        () => encoder.transformInput(tf.tensor2d(data, [200, dim])).arraySync() as number[][],
      );
      for (let k = 0; k < dim; k++) {
        const col = out.map((r) => r[k]!);
        const mean = col.reduce((a, b) => a + b, 0) / col.length;
        const variance = col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length;
        expect(Math.abs(mean)).toBeLessThan(1e-5);
        expect(variance).toBeCloseTo(1, 4);
      }
      // the transform is the closed form (sign(x)|x|^p − mean)/std, with mean/std computed here
      const transformed = Array.from(data, (x) => Math.sign(x) * Math.abs(x) ** power);
      const m0 = transformed.filter((_, i) => i % dim === 0).reduce((a, b) => a + b, 0) / 200;
      const s0 = Math.sqrt(
        transformed.filter((_, i) => i % dim === 0).reduce((a, b) => a + (b - m0) ** 2, 0) / 200,
      );
      expect(out[7]![0]!).toBeCloseTo((transformed[7 * dim]! - m0) / s0, 4);
    }
    expect(model.trainableVariables.some((v) => v.name.includes('/input/'))).toBe(false);
    model.dispose();
  });

  it('the signed power map keeps the sign of negative values', () => {
    const model = new CrossModalModel({ image: { inputDim: 2, inputPower: 0.5 }, text: { inputDim: 2 } });
    const out = tf.tidy(
      () => model.imageEncoder.transformInput(tf.tensor2d([[-4, 9]])).arraySync() as number[][],
    );
    expect(out[0]![0]).toBeCloseTo(-2, 6);
    expect(out[0]![1]).toBeCloseTo(3, 6);
    model.dispose();
  });

  it('the fitted statistics are saved and loaded with the model', async () => {
    const model = new CrossModalModel({
      image: { inputDim: 4, standardize: true },
      text: { inputDim: 3, standardize: true },
      seed: 3,
    });
    model.fitInputStatistics(randomRows(50, 4, 5, 3, 1), randomRows(50, 3, 6, -2, 4));
    const dir = await mkdtemp(join(tmpdir(), 'cleave-input-'));
    await model.save(dir);
    const loaded = await CrossModalModel.load(dir);
    const x = tf.tensor2d(randomRows(5, 4, 9, 3, 1), [5, 4]);
    const a = tf.tidy(() => model.embedImages(x).mean.arraySync());
    const b = tf.tidy(() => loaded.embedImages(x).mean.arraySync());
    expect(b).toEqual(a);
    x.dispose();
    model.dispose();
    loaded.dispose();
  });

  it('rejects features whose length is not a multiple of the input width', () => {
    const model = new CrossModalModel({ image: { inputDim: 4, standardize: true }, text: { inputDim: 3 } });
    expect(() => model.fitInputStatistics(new Float32Array(10), new Float32Array(3))).toThrow(
      /multiple of 4/,
    );
    expect(() => model.fitInputStatistics(new Float32Array(10), new Float32Array(3))).toThrow(DataError);
    model.dispose();
  });
});
