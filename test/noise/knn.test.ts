import { describe, expect, it } from 'vitest';
import { nearestNeighbours, neighbourLookup } from '../../src/noise/knn.js';
import { loadKnnFixture } from './knn-fixture.js';

// NumPy reference: test/reference/knn_fixture.py
const fixture = await loadKnnFixture();
const features = Float32Array.from(fixture.features);
const all = Array.from({ length: fixture.n }, (_, i) => i);

describe('nearestNeighbours (cosine) against NumPy', () => {
  it('matches for every row, including duplicate rows (ties by index) and a zero row', () => {
    const got = nearestNeighbours(features, fixture.dim, all, fixture.k);
    const rows = all.map((q) => Array.from(got.subarray(q * fixture.k, (q + 1) * fixture.k)));
    expect(rows).toEqual(fixture.neighbours);
    // the duplicates of row 3 are each other's nearest neighbours
    expect(rows[3]!.slice(0, 2)).toEqual([10, 11]);
  });

  it('matches with small blocks and a candidate subset', () => {
    const got = nearestNeighbours(features, fixture.dim, all, fixture.k, {
      candidates: [...fixture.candidates].reverse(),
      queryBlock: 7,
      candidateBlock: 13,
    });
    const rows = all.map((q) => Array.from(got.subarray(q * fixture.k, (q + 1) * fixture.k)));
    expect(rows).toEqual(fixture.neighboursInCandidates);
  });

  it('neighbourLookup returns each queried row’s list and refuses other rows', () => {
    const lookup = neighbourLookup(features, fixture.dim, [7, 3, 7], fixture.k);
    expect(Array.from(lookup(7))).toEqual(fixture.neighbours[7]);
    expect(Array.from(lookup(3))).toEqual(fixture.neighbours[3]);
    expect(() => lookup(4)).toThrow(/row 4 was not among the queries/);
    expect(() => nearestNeighbours(features, fixture.dim, [0], fixture.n)).toThrow(
      /k = 200 must be in \[1, 199\]/,
    );
  });
});
