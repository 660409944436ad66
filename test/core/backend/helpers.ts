/**
 * Shared test helpers for the backend tests: the BLAS addon (or a failure that says how to get it),
 * seeded random arrays, and a closeness check with a useful message.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { registerCpuBlasBackend, silenceNodeHint } from '../../../src/core/backend/cpu-blas.js';
import { BLAS_FIX, type BlasAddon, loadBlasAddon } from '../../../src/core/backend/native.js';
import { Rng } from '../../../src/core/random.js';
import { ensureGradients } from '../../../src/core/tf-gradients.js';

/**
 * The native addon, registered as the `cpu-blas` backend, with gradients available. Fails loudly
 * (never skips) when the addon is missing: the cpu-blas tests must run in CI.
 */
export async function requireCpuBlas(): Promise<BlasAddon> {
  const blas = loadBlasAddon();
  if (!blas.ok) throw new Error(`cpu-blas tests need the native addon: ${blas.reason}. To fix: ${BLAS_FIX}`);
  registerCpuBlasBackend(blas.addon);
  silenceNodeHint(tf.findBackend('cpu'));
  await ensureGradients();
  return blas.addon;
}

/** A seeded standard-normal Float32Array. */
export function randn(seed: number, size: number, scale = 1): Float32Array {
  return new Rng(seed).fillNormal(new Float32Array(size), 0, scale);
}

/** Run `f` with `backend` active (inside tidy) and return copies of the values of the tensors it returns. */
export async function on(backend: string, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const result = tf.tidy(f);
  const tensors = Array.isArray(result) ? result : [result];
  return tensors.map((t) => take(t));
}

/** Read a tensor's values as a Float32Array copy (and dispose it). */
export function take(t: tf.Tensor): Float32Array {
  const v = Float32Array.from(t.dataSync());
  t.dispose();
  return v;
}

/** Expect |actual − expected| ≤ atol + rtol·|expected| elementwise (NaN matches NaN). */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  rtol = 0,
  what = '',
) {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (a === e) continue;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`,
    );
  }
}
