/**
 * Synthetic paired data for the trainer tests: C classes, each image a noisy copy of its class
 * centre plus an item-specific part; its caption a fixed random linear map of the image plus noise,
 * so that true pairs are learnable at the instance level and shuffled pairs are not.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { PairDataset } from '../../src/core/dataset/pair-dataset.js';
import { Rng } from '../../src/core/random.js';

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
}

export interface SyntheticOptions {
  images?: number;
  captionsPerImage?: number;
  imageDim?: number;
  captionDim?: number;
  classes?: number;
  seed?: number;
  /** Fraction of images in train (the rest: val, then test, half each). */
  train?: number;
}

export function syntheticPairs(options: SyntheticOptions = {}): PairDataset {
  const n = options.images ?? 240;
  const k = options.captionsPerImage ?? 1;
  const dI = options.imageDim ?? 12;
  const dT = options.captionDim ?? 10;
  const classes = options.classes ?? 4;
  const rng = new Rng(options.seed ?? 1);
  const centres = rng.fillNormal(new Float32Array(classes * dI));
  const map = rng.fillNormal(new Float32Array(dI * dT), 0, 1 / Math.sqrt(dI));
  const labels = new Int32Array(n);
  const images = new Float32Array(n * dI);
  for (let i = 0; i < n; i++) {
    labels[i] = i % classes;
    for (let a = 0; a < dI; a++) images[i * dI + a] = 0.5 * centres[labels[i]! * dI + a]! + rng.normal();
  }
  const captions = new Float32Array(n * k * dT);
  const captionToImage = new Int32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const j = i * k + c;
      captionToImage[j] = i;
      for (let b = 0; b < dT; b++) {
        let v = 0;
        for (let a = 0; a < dI; a++) v += images[i * dI + a]! * map[a * dT + b]!;
        captions[j * dT + b] = v + 0.3 * rng.normal();
      }
    }
  }
  const nTrain = Math.round(n * (options.train ?? 0.7));
  const nVal = Math.floor((n - nTrain) / 2);
  const range = (a: number, b: number) => Int32Array.from({ length: b - a }, (_, t) => a + t);
  return PairDataset.fromArrays({
    name: 'synthetic',
    images: { data: images, dim: dI },
    captions: { data: captions, dim: dT },
    captionToImage,
    labels,
    splits: {
      train: { images: range(0, nTrain) },
      val: { images: range(nTrain, nTrain + nVal) },
      test: { images: range(nTrain + nVal, n) },
    },
  });
}

/** Small, fast trainer settings for tests. */
export const SMALL = {
  batchSize: 32,
  model: {
    embedDim: 16,
    // the synthetic captions are a linear map of the images: a linear skip path suits them
    image: { hidden: 32, dropout: 0, skip: true },
    text: { hidden: 32, dropout: 0, skip: true },
  },
  optimizer: { learningRate: 3e-3 },
} as const;
