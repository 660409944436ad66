/** Loading of the committed numpy fixtures (test/reference/eval_reference.py) and the tfjs cpu backend. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

export function fixture<T>(name: string): T {
  const path = fileURLToPath(new URL(`../reference/fixtures/eval/${name}`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export async function useCpuBackend(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

/** JSON has no NaN: the fixtures write it as null. */
export const num = (v: number | null | undefined): number => (v === null || v === undefined ? Number.NaN : v);

export function expectClose(actual: number, expected: number | null, tol = 1e-6, what = ''): void {
  const e = num(expected);
  if (Number.isNaN(e)) {
    if (!Number.isNaN(actual)) throw new Error(`${what}: expected NaN, got ${actual}`);
    return;
  }
  if (!(Math.abs(actual - e) <= tol))
    throw new Error(`${what}: expected ${e}, got ${actual} (tolerance ${tol})`);
}
