/**
 * Exact k-nearest neighbours by cosine similarity, blocked over queries and candidates so that a block
 * of candidate rows stays in cache while a block of queries is scored against it. Used by `hard` noise
 * (a noisy caption comes from a near neighbour of the image) and by the partial-noise test (is the new
 * image a near neighbour of the true one?).
 *
 * @example
 * ```ts
 * import { nearestNeighbours } from 'cleave/noise';
 * const x = new Float32Array([1, 0, 0.9, 0.1, 0, 1]);        // 3 points in 2-d
 * nearestNeighbours(x, 2, [0, 2], 1);                          // Int32Array [1, 1]: nearest of 0 is 1, of 2 is 1
 * ```
 */

/** Options of {@link nearestNeighbours}. */
export interface NearestNeighbourOptions {
  /** Search among these rows only (default: all). */
  candidates?: ArrayLike<number>;
  /** Queries per block. Default 64. */
  queryBlock?: number;
  /** Candidates per block. Default 1024. */
  candidateBlock?: number;
}

/** Rows scaled to unit L2 norm (rows of norm 0 stay 0), as float32 like the input. */
export function normalizeRows(features: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(features.length);
  const n = features.length / dim;
  for (let r = 0; r < n; r++) {
    let ss = 0;
    const o = r * dim;
    for (let d = 0; d < dim; d++) ss += features[o + d]! * features[o + d]!;
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let d = 0; d < dim; d++) out[o + d] = features[o + d]! * inv;
  }
  return out;
}

/**
 * The `k` rows most cosine-similar to each query row (the query itself excluded), most similar first;
 * equal similarities are ordered by row index.
 *
 * @param features `n × dim` row-major values
 * @param dim values per row
 * @param queries row indices to find neighbours for
 * @param k neighbours per query (at most the number of candidates other than the query)
 * @returns `queries.length × k` row indices
 */
export function nearestNeighbours(
  features: Float32Array,
  dim: number,
  queries: ArrayLike<number>,
  k: number,
  options: NearestNeighbourOptions = {},
): Int32Array {
  const n = features.length / dim;
  if (!Number.isInteger(n))
    throw new RangeError(`nearestNeighbours: ${features.length} values are not rows of ${dim}`);
  const candidates = options.candidates ? Int32Array.from(options.candidates).sort() : null;
  const numCandidates = candidates ? candidates.length : n;
  if (!Number.isInteger(k) || k < 1 || k > numCandidates - 1) {
    throw new RangeError(`nearestNeighbours: k = ${k} must be in [1, ${numCandidates - 1}]`);
  }
  const qBlock = options.queryBlock ?? 64;
  const cBlock = options.candidateBlock ?? 1024;
  const x = normalizeRows(features, dim);
  const nq = queries.length;
  const bestSim = new Float64Array(nq * k).fill(Number.NEGATIVE_INFINITY);
  const bestIdx = new Int32Array(nq * k).fill(-1);
  for (let q0 = 0; q0 < nq; q0 += qBlock) {
    const q1 = Math.min(nq, q0 + qBlock);
    for (let c0 = 0; c0 < numCandidates; c0 += cBlock) {
      const c1 = Math.min(numCandidates, c0 + cBlock);
      for (let qi = q0; qi < q1; qi++) {
        const q = queries[qi]!;
        if (!(q >= 0 && q < n)) throw new RangeError(`nearestNeighbours: query ${q} outside [0, ${n})`);
        const qo = q * dim;
        const base = qi * k;
        for (let ci = c0; ci < c1; ci++) {
          const c = candidates ? candidates[ci]! : ci;
          if (c === q) continue;
          const co = c * dim;
          let s = 0;
          for (let d = 0; d < dim; d++) s += x[qo + d]! * x[co + d]!;
          if (s <= bestSim[base + k - 1]!) continue;
          // Insert into the sorted top-k (descending similarity; earlier rows win ties).
          let pos = k - 1;
          while (pos > 0 && bestSim[base + pos - 1]! < s) {
            bestSim[base + pos] = bestSim[base + pos - 1]!;
            bestIdx[base + pos] = bestIdx[base + pos - 1]!;
            pos--;
          }
          bestSim[base + pos] = s;
          bestIdx[base + pos] = c;
        }
      }
    }
  }
  return bestIdx;
}

/**
 * Nearest neighbours of a set of rows, looked up by row index: `lookup(i)` is row i's `k` neighbours,
 * most similar first. Computes one blocked search for the distinct rows of `rows`.
 *
 * @throws RangeError when `lookup` is asked for a row that was not in `rows`
 */
export function neighbourLookup(
  features: Float32Array,
  dim: number,
  rows: Iterable<number>,
  k: number,
): (row: number) => Int32Array {
  const queries = Int32Array.from(new Set(rows)).sort();
  const nbrs = nearestNeighbours(features, dim, queries, k);
  const position = new Map<number, number>();
  for (let r = 0; r < queries.length; r++) position.set(queries[r]!, r);
  return (row) => {
    const r = position.get(row);
    if (r === undefined) throw new RangeError(`neighbourLookup: row ${row} was not among the queries`);
    return nbrs.subarray(r * k, r * k + k);
  };
}
