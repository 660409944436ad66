/** Shared helpers of the model and losses tests (not a test file itself). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

const FIXTURES = join(import.meta.dirname, '..', '..', 'reference', 'fixtures', 'model');

/** Read a JSON fixture written by test/reference/model_losses.py. */
export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
}

type M = number[][];

/** Gradients of a probabilistic loss w.r.t. μ, log σ² (images, captions), raw scale a and shift b. */
export interface ProbGrads {
  mu_i: M;
  ls_i: M;
  mu_c: M;
  ls_c: M;
  a_raw: number;
  b: number;
}

/** The shape of fixtures/model/losses.json. */
export interface LossesFixture {
  images: M;
  captions: M;
  triplet: {
    softMargin: 'exponential' | 'linear' | 'none';
    negatives: 'hardest' | 'mean';
    margin: number;
    targets: number[];
    perPair: number[];
    loss: number;
    gradImages: M;
    gradCaptions: M;
  }[];
  infoNCE: {
    logScale: number;
    targets: number[];
    perPair: number[];
    loss: number;
    gradImages: M;
    gradCaptions: M;
    gradLogScale: number;
  }[];
  probabilistic: {
    imageMean: M;
    imageLogSigma2: M;
    captionMean: M;
    captionLogSigma2: M;
    scaleRaw: number;
    shift: number;
    csdDistance: M;
    matchCsd: {
      targets: number[];
      pseudoPositiveWeight: number;
      loss: number;
      perPair: number[];
      perPairWithNegatives: number[];
      grads: ProbGrads;
    }[];
    matchMc: {
      targets: number[];
      samples: number;
      noiseImages: number[][][];
      noiseCaptions: number[][][];
      logP: M;
      logQ: M;
      loss: number;
      grads: ProbGrads;
    };
    vib: { value: number; gradMean: M; gradLogSigma2: M };
  };
}

/** The shape of fixtures/model/encoder.json. */
export interface EncoderFixture {
  config: Record<string, unknown>;
  weights: Record<string, { shape: number[]; values: number[] }>;
  images: number[][][];
  imageMask: M;
  captions: M;
  poolingWeights: M;
  imageMean: M;
  imageLogSigma2: M;
  captionMean: M;
  captionLogSigma2: M;
  distance: M;
  matchProbability: M;
  temperature: number;
}

type Nested = number | Nested[];

function flatten(x: Nested): number[] {
  return Array.isArray(x) ? x.flatMap(flatten) : [x];
}

/**
 * Expect every element of `actual` (a tensor or nested numbers) to be within
 * `atol + rtol·|expected|` of `expected`, reporting the worst element.
 */
export function expectClose(actual: tf.Tensor | Nested, expected: Nested, atol = 1e-5, rtol = 1e-4): void {
  const a = actual instanceof tf.Tensor ? Array.from(actual.dataSync()) : flatten(actual);
  const e = flatten(expected);
  expect(a.length).toBe(e.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const excess = Math.abs(a[i]! - e[i]!) - (atol + rtol * Math.abs(e[i]!));
    if (!(excess <= worstExcess)) {
      worstExcess = Number.isNaN(excess) ? Number.POSITIVE_INFINITY : excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    expect.fail(`element ${worst}: got ${a[worst]}, expected ${e[worst]} (atol ${atol}, rtol ${rtol})`);
  }
}

/** A float32 2-D tensor from nested arrays. */
export function t2(x: number[][]): tf.Tensor2D {
  return tf.tensor2d(x, undefined, 'float32');
}
