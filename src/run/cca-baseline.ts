/**
 * The `cca` method of runs and of the experiment grid: linear CCA ({@link CCA}) fitted on the (noisy)
 * training pairs, with no noise handling at all — every pair counts as clean — and retrieval by the
 * cosine of the L2-normalised canonical projections. A floor under the trained methods.
 *
 * Multi-region images are flattened (regions × dim values per image). `components` defaults to
 * min(image width, caption width, 128); the ridge `regularization` to 1e-3 (relative to each view's
 * mean variance).
 *
 * @example
 * ```ts
 * import { bundledDataset, loadPairs } from 'cleave';
 * import { fitCCABaseline } from 'cleave/run';
 * const data = await loadPairs(bundledDataset('wikipedia-xmodal'));
 * const baseline = fitCCABaseline(data.train);
 * const emb = baseline.embed(data.test);        // { dim, images, captions }: unit-norm rows
 * ```
 */
import { z } from 'zod';
import type { PairDataset } from '../core/dataset/pair-dataset.js';
import { parseOrThrow } from '../core/errors.js';
import { l2NormalizeRows } from '../eval/arrays.js';
import { CCA } from '../eval/cca.js';

/** Options of the CCA baseline (`cca` in a run config). */
export const ccaBaselineOptionsSchema = z
  .object({
    /** Canonical components kept; default min(image width, caption width, 128). */
    components: z.number().int().positive().optional(),
    /** Ridge relative to each view's mean variance. */
    regularization: z.number().min(0).default(1e-3),
  })
  .strict();
/** Options of {@link fitCCABaseline}, as written. */
export type CCABaselineOptions = z.input<typeof ccaBaselineOptionsSchema>;

/** A fitted CCA baseline. */
export interface CCABaseline {
  cca: CCA;
  /** Unit-norm canonical projections of every image and caption of `data` (row-major, `dim` wide). */
  embed(data: PairDataset): { dim: number; images: Float32Array; captions: Float32Array };
  /** 1 − cos(image, caption) of every pair of `data` (higher = less alike). */
  pairLosses(data: PairDataset): Float64Array;
}

/**
 * Fit CCA on the pairs of `train` as they are paired (noisy pairs included).
 * @throws ConfigError for bad options; DataError for degenerate data (see {@link CCA.fit})
 *
 * @example
 * ```ts
 * const baseline = fitCCABaseline(data.train, { components: 10 });
 * const { images, captions, dim } = baseline.embed(data.test);
 * ```
 */
export function fitCCABaseline(train: PairDataset, options: CCABaselineOptions = {}): CCABaseline {
  const opts = parseOrThrow(ccaBaselineOptionsSchema, options, 'cca options');
  const xDim = train.imageStride;
  const yDim = train.captionDim;
  const components = opts.components ?? Math.min(xDim, yDim, 128);
  const x = train.gatherImages(train.captionToImage);
  const y = train.captionMatrix();
  const cca = new CCA({ components, regularization: opts.regularization }).fit(x, y, { xDim, yDim });
  const embed = (data: PairDataset) => ({
    dim: components,
    images: l2NormalizeRows(cca.transformX(data.imageMatrix()), components),
    captions: l2NormalizeRows(cca.transformY(data.captionMatrix()), components),
  });
  return {
    cca,
    embed,
    pairLosses(data) {
      const e = embed(data);
      const out = new Float64Array(data.numPairs);
      for (let j = 0; j < data.numPairs; j++) {
        const i = data.captionToImage[j]!;
        let dot = 0;
        for (let k = 0; k < components; k++)
          dot += e.images[i * components + k]! * e.captions[j * components + k]!;
        out[j] = 1 - dot;
      }
      return out;
    },
  };
}
