import { beforeAll, describe, expect, it } from 'vitest';
import { classMAP, scoreClassMAP } from '../../src/eval/map.js';
import { matrixScorer } from '../../src/eval/scorer.js';
import { expectClose, fixture, useCpuBackend } from './fixtures.js';

interface RefMAP {
  mapAll: number;
  mapAtR: number;
  queries: number;
}
interface RefCase {
  name: string;
  dim?: number;
  images?: number[];
  texts?: number[];
  scores?: number[];
  imageLabels: number[];
  textLabels: number[];
  i2t: RefMAP;
  t2i: RefMAP;
}
const { cases } = fixture<{ cases: RefCase[] }>('map.json');

beforeAll(useCpuBackend);

describe('classMAP against the numpy reference (ties irrelevant-first)', () => {
  for (const c of cases) {
    for (const blockBytes of [undefined, 1024]) {
      it(`${c.name}${blockBytes ? ' (small blocks)' : ''}`, async () => {
        const opts = { imageLabels: c.imageLabels, textLabels: c.textLabels, blockBytes };
        const m = c.scores
          ? await scoreClassMAP(matrixScorer(c.scores, c.imageLabels.length, c.textLabels.length), opts)
          : await classMAP(new Float32Array(c.images!), new Float32Array(c.texts!), { ...opts, dim: c.dim! });
        for (const dir of ['i2t', 't2i'] as const) {
          expect(m[dir].queries, `${c.name} ${dir} queries`).toBe(c[dir].queries);
          expectClose(m[dir].mapAll, c[dir].mapAll, 1e-6, `${c.name} ${dir} mapAll`);
          expectClose(m[dir].mapAtR, c[dir].mapAtR, 1e-6, `${c.name} ${dir} mapAtR`);
        }
      });
    }
  }
});

describe('classMAP closed forms', () => {
  it('a perfect ranking gives 1 for both, and mAP@R cuts at R', async () => {
    // 1 query, gallery ranked: rel, irr, rel, irr  → AP = (1 + 2/3)/2, AP@R (R = 2) = (1 + 0)/2
    const scores = new Float32Array([4, 3, 2, 1]);
    const m = await scoreClassMAP(matrixScorer(scores, 1, 4), { imageLabels: [7], textLabels: [7, 0, 7, 0] });
    expectClose(m.i2t.mapAll, (1 + 2 / 3) / 2, 1e-12, 'AP');
    expectClose(m.i2t.mapAtR, 0.5, 1e-12, 'AP@R');
    const perfect = await scoreClassMAP(matrixScorer(new Float32Array([4, 2, 3, 1]), 1, 4), {
      imageLabels: [7],
      textLabels: [7, 0, 7, 0],
    });
    expect(perfect.i2t.mapAll).toBe(1);
    expect(perfect.i2t.mapAtR).toBe(1);
  });

  it('rejects labels of the wrong length', async () => {
    await expect(
      scoreClassMAP(matrixScorer(new Float32Array(4), 2, 2), { imageLabels: [1], textLabels: [1, 2] }),
    ).rejects.toThrow(/imageLabels: has 1 labels, expected 2/);
  });
});
