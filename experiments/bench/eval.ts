/**
 * `npm run bench -- eval [--json] [--images 5000] [--k 5] [--dim 1024] [--backend cpu|wasm] [--no-numpy]`
 *
 * Retrieval metrics (both directions, pessimistic ties) for images × (k·images) captions of width
 * `dim` on the active tfjs backend, against the numpy reference (test/reference/eval_reference.py)
 * on the same embeddings in the same run. Reports the time of each side split into scoring (matmul,
 * plus the read-back of each tile for cleave) and ranking, the speed-up ratios, and whether the two
 * agree.
 *
 * Backend: `--backend` if given; otherwise cleave's `initBackend()` when the library exports one
 * (src/core/backend); otherwise `wasm` (XNNPACK matmul), falling back to plain `cpu`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as cleave from 'cleave';
import { Rng } from 'cleave';
import { l2NormalizeRows, retrievalMetrics } from 'cleave/eval';

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v <= 0)
    throw new Error(`--${name} expects a positive integer, got ${args[i + 1]}`);
  return v;
}

async function startBackend(args: string[]): Promise<string> {
  const i = args.indexOf('--backend');
  const wanted = i >= 0 ? args[i + 1] : undefined;
  // Hook: use the library's backend selection once src/core/backend exports initBackend.
  const initBackend = (cleave as unknown as Record<string, unknown>).initBackend;
  if (!wanted && typeof initBackend === 'function') {
    await (initBackend as () => Promise<unknown>)();
    return tf.getBackend();
  }
  await import('@tensorflow/tfjs-backend-cpu');
  if (wanted !== 'cpu') {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      if (await tf.setBackend('wasm')) return tf.getBackend();
    } catch (error) {
      if (wanted === 'wasm') throw error;
    }
  }
  await tf.setBackend('cpu');
  return tf.getBackend();
}

/** Unit image embeddings and captions = normalised (image + noise), so the metrics are not trivial. */
function embeddings(nImages: number, k: number, dim: number) {
  const rng = new Rng(2024);
  const images = l2NormalizeRows(rng.fork('images').fillNormal(new Float32Array(nImages * dim)), dim);
  const noise = rng.fork('captions').fillNormal(new Float32Array(nImages * k * dim), 0, 9 / Math.sqrt(dim));
  for (let j = 0; j < nImages * k; j++) {
    const img = Math.floor(j / k) * dim;
    for (let c = 0; c < dim; c++) noise[j * dim + c] = noise[j * dim + c]! + images[img + c]!;
  }
  return { images, captions: l2NormalizeRows(noise, dim) };
}

export async function run(args: string[]): Promise<unknown> {
  const nImages = option(args, 'images', 5000);
  const k = option(args, 'k', 5);
  const dim = option(args, 'dim', 1024);
  const backend = await startBackend(args);
  const { images, captions } = embeddings(nImages, k, dim);

  const t0 = performance.now();
  const m = await retrievalMetrics(images, captions, { dim, captionToImage: k, profile: true });
  const totalMs = performance.now() - t0;
  const result: Record<string, unknown> = {
    suite: 'eval',
    backend,
    images: nImages,
    captions: nImages * k,
    dim,
    cleave: {
      totalMs,
      scoreMs: m.timing!.scoreMs,
      rankMs: m.timing!.rankMs,
      tiles: m.timing!.tiles,
      scoreGflops: (2 * nImages * nImages * k * dim) / (m.timing!.scoreMs * 1e6),
      rsum: m.rsum,
    },
  };
  if (args.includes('--no-numpy')) return result;

  const dir = mkdtempSync(join(tmpdir(), 'cleave-bench-eval-'));
  try {
    writeFileSync(join(dir, 'images.f32'), images);
    writeFileSync(join(dir, 'captions.f32'), captions);
    const script = fileURLToPath(new URL('../../test/reference/eval_reference.py', import.meta.url));
    const out = execFileSync(
      'python3',
      [
        script,
        'bench',
        '--dir',
        dir,
        '--images',
        `${nImages}`,
        '--captions',
        `${nImages * k}`,
        '--dim',
        `${dim}`,
        '--k',
        `${k}`,
      ],
      { encoding: 'utf8', maxBuffer: 1 << 24 },
    );
    const np = JSON.parse(out) as {
      matmulMs: number;
      rankMs: number;
      totalMs: number;
      numpy: string;
      metrics: { i2t: Record<string, number>; t2i: Record<string, number>; rsum: number };
    };
    let maxRecallDiff = 0;
    for (const d of ['i2t', 't2i'] as const) {
      for (const key of ['r1', 'r5', 'r10', 'meanRank'] as const) {
        maxRecallDiff = Math.max(maxRecallDiff, Math.abs(m[d][key] - np.metrics[d][key]!));
      }
    }
    result.numpy = {
      version: np.numpy,
      totalMs: np.totalMs,
      matmulMs: np.matmulMs,
      rankMs: np.rankMs,
      rsum: np.metrics.rsum,
    };
    result.ratios = {
      totalSpeedupVsNumpy: np.totalMs / totalMs,
      rankSpeedupVsNumpy: np.rankMs / m.timing!.rankMs,
      scoreSpeedupVsNumpy: np.matmulMs / m.timing!.scoreMs,
    };
    // float32 matmuls that sum in different orders may swap near-equal scores: expect tiny differences
    result.agreement = { maxAbsDiff: maxRecallDiff };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}
