import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Points and their exact cosine kNN computed by NumPy: test/reference/knn_fixture.py. */
export interface KnnFixture {
  n: number;
  dim: number;
  k: number;
  features: number[];
  neighbours: number[][];
  candidates: number[];
  neighboursInCandidates: number[][];
}

export async function loadKnnFixture(): Promise<KnnFixture> {
  const path = join(import.meta.dirname, '../reference/fixtures/noise/knn.json');
  return JSON.parse(await readFile(path, 'utf8')) as KnnFixture;
}
