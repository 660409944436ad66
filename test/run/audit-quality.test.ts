/**
 * The curator's case on real CLIP pairs, small: a clip-retrieval folder of 400 Myntra products (FashionCLIP
 * image and title embeddings) with 30 % swapped captions, audited with the defaults (short training).
 * The audit must rank at least as well as the CLIP-score filter (the plain input cosine), estimate the
 * noise rate within ±0.05, and remove the swapped pairs at P(clean) ≤ 0.5 with precision and recall ≥ 0.9.
 * (`npm run exp:curator` measures the full 1000 pairs at 10/30/50 %.)
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/core/backend/index.js';
import { bundledDataset } from '../../src/core/dataset/bundled.js';
import { loadPairs } from '../../src/core/io/manifest.js';
import { rocAuc } from '../../src/eval/detection.js';
import { inputCosines } from '../../src/eval/shared-space.js';
import { injectNoise } from '../../src/noise/inject.js';
import { auditPairs } from '../../src/run/audit.js';
import { writeClipRetrievalFolder } from '../../src/run/clip-folder.js';
import { tempDir } from './helpers.js';

const tmp = tempDir();

beforeAll(async () => {
  await initBackend();
});
afterAll(() => tmp.cleanup());

describe('audit on CLIP-embedded pairs', () => {
  it('beats the CLIP-score filter, estimates the noise rate, removes the swapped pairs', async () => {
    const all = (await loadPairs(bundledDataset('myntra-fashionclip-1000'))).withSplits({});
    const subset = all
      .withSplits({ part: { pairs: Int32Array.from({ length: 400 }, (_, j) => j) } })
      .split('part')
      .withSplits({});
    const noisy = injectNoise(subset, { rate: 0.3, kind: 'shuffle', seed: 4 });
    const folder = join(tmp.dir, 'scraped');
    await writeClipRetrievalFolder(folder, noisy.dataset);
    const { summary, rows } = await auditPairs({
      data: folder,
      outDir: join(tmp.dir, 'audit'),
      config: { epochs: 3 },
      formats: ['csv'],
      plots: false,
      saveModel: false,
      html: false,
    });
    // every signal is a column: the input cosine, the learned loss, and their blend (loss)
    expect(rows.every((r) => r.inputCosine !== null && r.learnedLoss !== null)).toBe(true);
    expect(summary.inputWeight).toBeGreaterThanOrEqual(0);
    const truth = noisy.noisy;
    const suspicion = new Float64Array(rows.length);
    for (const r of rows) suspicion[r.pair] = rows.length - r.rank;
    const auditAuc = rocAuc(suspicion, truth);
    const cosineAuc = rocAuc(
      inputCosines(noisy.dataset).map((c) => -c),
      truth,
    );
    expect(auditAuc).toBeGreaterThanOrEqual(cosineAuc);
    expect(auditAuc).toBeGreaterThanOrEqual(0.97);
    const trueRate = truth.reduce((a, b) => a + b, 0) / truth.length;
    expect(Math.abs(summary.estimatedNoiseRate - trueRate)).toBeLessThanOrEqual(0.05);
    const removed = rows.filter((r) => !r.kept);
    const hits = removed.filter((r) => truth[r.pair]).length;
    expect(hits / removed.length).toBeGreaterThanOrEqual(0.9);
    expect(hits / truth.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(0.9);
  });
});
