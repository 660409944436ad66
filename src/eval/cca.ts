/**
 * Regularised linear canonical correlation analysis (CCA): the reference method of the Wikipedia
 * cross-modal benchmark (Rasiwasia et al., ACM MM 2010), and a floor in cleave's experiment grid (it
 * has no noise handling at all).
 *
 * ## Method (closed form)
 * With centred views X (n × dx) and Y (n × dy):
 * `Cxx = XᵀX/(n−1) + rx·I`, `Cyy = YᵀY/(n−1) + ry·I`, `Cxy = XᵀY/(n−1)`, where the ridge is relative
 * to the view's scale: `rx = regularization · trace(XᵀX/(n−1)) / dx` (likewise ry), so the same
 * setting works for features of any magnitude. Whiten each view with the symmetric inverse square root
 * (`Wx = Cxx^(−1/2)` by eigendecomposition), take the SVD `Wx Cxy Wy = U S Vᵀ`, and keep the top
 * `components`: projections `A = Wx U_k`, `B = Wy V_k`, canonical correlations `S_k`.
 * `transformX(x) = (x − mean_x) A`, `transformY(y) = (y − mean_y) B`. The sign of each component pair
 * is arbitrary (flipping both keeps every cross-view dot product).
 *
 * Features whose rows sum to one (histograms, topic proportions) have a singular covariance: keep
 * `regularization > 0` for them (the default 1e-3 is enough).
 *
 * @example
 * ```ts
 * import { CCA, classMAP, l2NormalizeRows } from 'cleave/eval';
 * const cca = new CCA({ components: 10 }).fit(trainImages, trainTexts, { xDim: 128, yDim: 10 });
 * const zi = l2NormalizeRows(cca.transformX(testImages), 10);
 * const zt = l2NormalizeRows(cca.transformY(testTexts), 10);
 * console.log(cca.correlations, await classMAP(zi, zt, { dim: 10, imageLabels, textLabels }));
 * ```
 */
import { EigenvalueDecomposition, Matrix, SingularValueDecomposition } from 'ml-matrix';
import { z } from 'zod';
import { ConfigError, DataError, parseOrThrow } from '../core/errors.js';
import { checkedRows, type NumberArray } from './arrays.js';

/** Options of {@link CCA}. */
export const ccaOptionsSchema = z
  .object({
    /** Number of canonical components kept (≤ min(dx, dy)). */
    components: z.number().int().positive().default(10),
    /** Ridge added to each covariance, relative to its mean variance (trace / dim). */
    regularization: z.number().min(0).default(1e-3),
  })
  .strict();
/** Options of {@link CCA}, as accepted. */
export type CCAOptions = z.input<typeof ccaOptionsSchema>;

/** Widths of the two views given to {@link CCA.fit}. */
export interface CCADims {
  xDim: number;
  yDim: number;
}

/** The JSON form of a fitted {@link CCA} (`toJSON` / `CCA.fromJSON`). */
export const ccaJSONSchema = z
  .object({
    kind: z.literal('cca'),
    version: z.literal(1),
    options: z.object({ components: z.number().int().positive(), regularization: z.number().min(0) }),
    xDim: z.number().int().positive(),
    yDim: z.number().int().positive(),
    meanX: z.array(z.number()),
    meanY: z.array(z.number()),
    /** Row-major xDim × components. */
    projectionX: z.array(z.number()),
    /** Row-major yDim × components. */
    projectionY: z.array(z.number()),
    correlations: z.array(z.number()),
  })
  .strict();
/** The JSON form of a fitted {@link CCA}. */
export type CCAJSON = z.output<typeof ccaJSONSchema>;

interface Fitted {
  xDim: number;
  yDim: number;
  meanX: Float64Array;
  meanY: Float64Array;
  projectionX: Float64Array;
  projectionY: Float64Array;
  correlations: Float64Array;
}

/** Centred copy of a row-major matrix and its column means. */
function centred(data: NumberArray, rows: number, dim: number): { m: Matrix; mean: Float64Array } {
  const mean = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let c = 0; c < dim; c++) mean[c] = mean[c]! + data[r * dim + c]!;
  for (let c = 0; c < dim; c++) mean[c]! /= rows;
  const values = new Float64Array(rows * dim);
  for (let i = 0; i < values.length; i++) values[i] = data[i]! - mean[i % dim]!;
  return { m: Matrix.from1DArray(rows, dim, values), mean };
}

/** `(C + ridge·I)^(−1/2)` of a symmetric positive semi-definite matrix, with the relative ridge. */
function inverseSqrt(cov: Matrix, regularization: number, view: string): Matrix {
  const d = cov.rows;
  const ridge = (regularization * cov.trace()) / d;
  const c = cov.clone();
  for (let i = 0; i < d; i++) c.set(i, i, c.get(i, i) + ridge);
  const evd = new EigenvalueDecomposition(c, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const top = Math.max(...values);
  const v = evd.eigenvectorMatrix;
  const scaled = v.clone();
  for (let j = 0; j < d; j++) {
    const w = values[j]!;
    if (!(w > top * 1e-12)) {
      throw new DataError(
        `covariance of view ${view} is singular (eigenvalue ${w.toExponential(2)}), e.g. rows that sum to 1 or constant columns: set regularization > 0`,
        { file: view },
      );
    }
    const s = 1 / Math.sqrt(w);
    for (let i = 0; i < d; i++) scaled.set(i, j, scaled.get(i, j) * s);
  }
  return scaled.mmul(v.transpose());
}

function project(
  data: NumberArray,
  dim: number,
  mean: Float64Array,
  proj: Float64Array,
  k: number,
  name: string,
) {
  const rows = checkedRows(data, dim, name);
  const out = new Float32Array(rows * k);
  const centredRow = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < dim; c++) centredRow[c] = data[r * dim + c]! - mean[c]!;
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let c = 0; c < dim; c++) s += centredRow[c]! * proj[c * k + j]!;
      out[r * k + j] = s;
    }
  }
  return out;
}

/**
 * Regularised linear CCA between two views (see the module documentation for the maths).
 *
 * @example
 * ```ts
 * import { CCA } from 'cleave/eval';
 * const x = new Float32Array([0, 0, 1, 0, 0, 1, 1, 1, 2, 1]); // 5 × 2
 * const y = new Float32Array([0, 1, 1, 2, 3]); // 5 × 1
 * const cca = new CCA({ components: 1 }).fit(x, y, { xDim: 2, yDim: 1 });
 * console.log(cca.correlations[0]); // ≈ 0.999
 * const zx = cca.transformX(x); // 5 × 1
 * ```
 */
export class CCA {
  /** The validated options. */
  readonly options: z.output<typeof ccaOptionsSchema>;
  private fitted: Fitted | undefined;

  constructor(options: CCAOptions = {}) {
    this.options = parseOrThrow(ccaOptionsSchema, options, 'CCA options');
  }

  /** Canonical correlations of the kept components, highest first (after `fit`). */
  get correlations(): Float64Array {
    return this.state().correlations;
  }

  private state(): Fitted {
    if (!this.fitted) throw new ConfigError('CCA: call fit() (or CCA.fromJSON) before using the model');
    return this.fitted;
  }

  /**
   * Fit on paired rows: row i of `x` (n × xDim) pairs with row i of `y` (n × yDim).
   *
   * @returns this
   * @throws DataError on mismatched row counts, NaN/∞ values, fewer than 2 rows, or a singular covariance without regularisation
   * @throws ConfigError when `components` exceeds min(xDim, yDim)
   */
  fit(x: NumberArray, y: NumberArray, dims: CCADims): this {
    const { xDim, yDim } = dims;
    const n = checkedRows(x, xDim, 'x');
    const ny = checkedRows(y, yDim, 'y');
    if (n !== ny) throw new DataError(`x has ${n} rows but y has ${ny}; rows must be paired`, { file: 'y' });
    if (n < 2) throw new DataError(`CCA needs at least 2 paired rows, got ${n}`, { file: 'x' });
    const k = this.options.components;
    if (k > Math.min(xDim, yDim)) {
      throw new ConfigError(`CCA: components = ${k} exceeds min(xDim, yDim) = ${Math.min(xDim, yDim)}`, [
        { path: 'components', message: `at most ${Math.min(xDim, yDim)}` },
      ]);
    }
    const { m: xc, mean: meanX } = centred(x, n, xDim);
    const { m: yc, mean: meanY } = centred(y, n, yDim);
    const cxx = xc.gram().div(n - 1);
    const cyy = yc.gram().div(n - 1);
    const cxy = xc.transposeMultiply(yc).div(n - 1);
    const wx = inverseSqrt(cxx, this.options.regularization, 'x');
    const wy = inverseSqrt(cyy, this.options.regularization, 'y');
    const svd = new SingularValueDecomposition(wx.mmul(cxy).mmul(wy), { autoTranspose: true });
    const a = wx.mmul(svd.leftSingularVectors.subMatrix(0, xDim - 1, 0, k - 1));
    const b = wy.mmul(svd.rightSingularVectors.subMatrix(0, yDim - 1, 0, k - 1));
    this.fitted = {
      xDim,
      yDim,
      meanX,
      meanY,
      projectionX: Float64Array.from(a.to1DArray()),
      projectionY: Float64Array.from(b.to1DArray()),
      correlations: Float64Array.from(svd.diagonal.slice(0, k)),
    };
    return this;
  }

  /** Project rows of the first view (n × xDim) to the canonical space: n × components, row-major. */
  transformX(x: NumberArray): Float32Array {
    const f = this.state();
    return project(x, f.xDim, f.meanX, f.projectionX, this.options.components, 'x');
  }

  /** Project rows of the second view (n × yDim) to the canonical space: n × components, row-major. */
  transformY(y: NumberArray): Float32Array {
    const f = this.state();
    return project(y, f.yDim, f.meanY, f.projectionY, this.options.components, 'y');
  }

  /** Both views at once, as scikit-learn's `transform(X, Y)`. */
  transform(x: NumberArray, y: NumberArray): { x: Float32Array; y: Float32Array } {
    return { x: this.transformX(x), y: this.transformY(y) };
  }

  /** The fitted model as plain JSON (round-trips through {@link CCA.fromJSON}). */
  toJSON(): CCAJSON {
    const f = this.state();
    return {
      kind: 'cca',
      version: 1,
      options: { ...this.options },
      xDim: f.xDim,
      yDim: f.yDim,
      meanX: Array.from(f.meanX),
      meanY: Array.from(f.meanY),
      projectionX: Array.from(f.projectionX),
      projectionY: Array.from(f.projectionY),
      correlations: Array.from(f.correlations),
    };
  }

  /**
   * Rebuild a fitted model from {@link CCA.toJSON} output.
   *
   * @throws ConfigError when the JSON does not validate or its array sizes disagree
   */
  static fromJSON(json: unknown): CCA {
    const j = parseOrThrow(ccaJSONSchema, json, 'CCA JSON');
    const k = j.options.components;
    const sizes: [string, number, number][] = [
      ['meanX', j.meanX.length, j.xDim],
      ['meanY', j.meanY.length, j.yDim],
      ['projectionX', j.projectionX.length, j.xDim * k],
      ['projectionY', j.projectionY.length, j.yDim * k],
      ['correlations', j.correlations.length, k],
    ];
    for (const [path, got, want] of sizes) {
      if (got !== want) {
        throw new ConfigError(`CCA JSON: ${path} has ${got} values, expected ${want}`, [
          { path, message: `expected ${want} values` },
        ]);
      }
    }
    const cca = new CCA(j.options);
    cca.fitted = {
      xDim: j.xDim,
      yDim: j.yDim,
      meanX: Float64Array.from(j.meanX),
      meanY: Float64Array.from(j.meanY),
      projectionX: Float64Array.from(j.projectionX),
      projectionY: Float64Array.from(j.projectionY),
      correlations: Float64Array.from(j.correlations),
    };
    return cca;
  }
}
