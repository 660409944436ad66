import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sampleCorrelation } from 'simple-statistics';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/random.js';
import { l2NormalizeRows } from '../../src/eval/arrays.js';
import { CCA, type CCADims, type CCAOptions } from '../../src/eval/cca.js';
import { classMAP } from '../../src/eval/map.js';
import { expectClose, fixture, useCpuBackend } from './fixtures.js';

// The Wikipedia cross-modal features (Rasiwasia et al. 2010), the copy bundled under data/; see its SOURCE.md.
const WIKI = fileURLToPath(new URL('../../data/wikipedia-xmodal', import.meta.url));
const N = 2866;
const TRAIN = 2173;

function f32(file: string, cols: number): Float32Array {
  const buf = readFileSync(join(WIKI, file));
  expect(buf.byteLength).toBe(N * cols * 4);
  return new Float32Array(buf.buffer, buf.byteOffset, N * cols).slice();
}

/** `new CCA(options).fit(x, y, dims)` (one place, so the linter's Jasmine `fit` rule fires once). */
function fitCCA(options: CCAOptions, x: ArrayLike<number>, y: ArrayLike<number>, dims: CCADims): CCA {
  return new CCA(options).fit(x, y, dims);
}

interface RefCCA {
  components: number;
  regularization: number;
  correlations: number[];
  i2t: { mapAll: number; mapAtR: number };
  t2i: { mapAll: number; mapAtR: number };
  cosineFirst5: number[];
}

beforeAll(useCpuBackend);

describe('CCA on the Wikipedia benchmark (official split)', () => {
  const ref = fixture<RefCCA>('cca_wikipedia.json');
  const images = f32('image_sift_bovw128.f32.bin', 128);
  const texts = f32('text_lda10.f32.bin', 10);
  const labels = readFileSync(join(WIKI, 'labels.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => Number(line.split(',')[1]));
  const testLabels = labels.slice(TRAIN);
  const cca = fitCCA(
    { components: ref.components, regularization: ref.regularization },
    images.subarray(0, TRAIN * 128),
    texts.subarray(0, TRAIN * 10),
    { xDim: 128, yDim: 10 },
  );
  const zi = l2NormalizeRows(cca.transformX(images.subarray(TRAIN * 128)), 10);
  const zt = l2NormalizeRows(cca.transformY(texts.subarray(TRAIN * 10)), 10);

  it('canonical correlations and test-set cosines match the numpy CCA', () => {
    for (const [k, r] of ref.correlations.entries())
      expectClose(cca.correlations[k]!, r, 1e-6, `correlation ${k}`);
    for (let a = 0; a < 5; a++) {
      for (let b = 0; b < 5; b++) {
        let dot = 0;
        for (let c = 0; c < 10; c++) dot += zi[a * 10 + c]! * zt[b * 10 + c]!;
        expectClose(dot, ref.cosineFirst5[a * 5 + b]!, 1e-5, `cosine ${a},${b}`);
      }
    }
  });

  it('class-level mAP matches the numpy reference and lands near the published CCA (~0.25 / ~0.19)', async () => {
    const m = await classMAP(zi, zt, { dim: 10, imageLabels: testLabels, textLabels: testLabels });
    expect(m.i2t.queries).toBe(693);
    for (const dir of ['i2t', 't2i'] as const) {
      expectClose(m[dir].mapAll, ref[dir].mapAll, 1e-4, `${dir} mapAll`);
      expectClose(m[dir].mapAtR, ref[dir].mapAtR, 1e-4, `${dir} mapAtR`);
    }
    expect(m.i2t.mapAll).toBeGreaterThan(0.22);
    expect(m.i2t.mapAll).toBeLessThan(0.27);
    expect(m.t2i.mapAll).toBeGreaterThan(0.17);
    expect(m.t2i.mapAll).toBeLessThan(0.22);
  });

  it('round-trips through JSON', () => {
    const again = CCA.fromJSON(JSON.parse(JSON.stringify(cca.toJSON())));
    expect(Array.from(again.transformY(texts.subarray(0, 50)))).toEqual(
      Array.from(cca.transformY(texts.subarray(0, 50))),
    );
    expect(Array.from(again.correlations)).toEqual(Array.from(cca.correlations));
  });

  it('needs the ridge on these sum-to-one features', () => {
    expect(() =>
      fitCCA({ regularization: 0 }, images.subarray(0, TRAIN * 128), texts.subarray(0, TRAIN * 10), {
        xDim: 128,
        yDim: 10,
      }),
    ).toThrow(/singular.*set regularization > 0/);
  });
});

describe('CCA closed forms', () => {
  function correlated(n: number, dx: number, dy: number, seed: number) {
    const rng = new Rng(seed);
    const latent = Array.from({ length: n * 2 }, () => rng.normal());
    const x = new Float64Array(n * dx);
    const y = new Float64Array(n * dy);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < dx; c++) x[i * dx + c] = latent[i * 2 + (c % 2)]! * (c + 1) + rng.normal() * 2;
      for (let c = 0; c < dy; c++) y[i * dy + c] = latent[i * 2 + ((c + 1) % 2)]! - rng.normal() * (c + 1);
    }
    return { x, y };
  }

  it('without ridge, the canonical variates reach the reported correlations and are uncorrelated otherwise', () => {
    const n = 300;
    const { x, y } = correlated(n, 5, 4, 3);
    const cca = fitCCA({ components: 3, regularization: 0 }, x, y, { xDim: 5, yDim: 4 });
    const zx = cca.transformX(x);
    const zy = cca.transformY(y);
    const col = (z: Float32Array, k: number) => Array.from({ length: n }, (_, i) => z[i * 3 + k]!);
    for (let k = 0; k < 3; k++) {
      for (let l = 0; l < 3; l++) {
        const r = sampleCorrelation(col(zx, k), col(zy, l));
        expectClose(r, k === l ? cca.correlations[k]! : 0, 1e-5, `corr(zx${k}, zy${l})`);
        if (k !== l) expectClose(sampleCorrelation(col(zx, k), col(zx, l)), 0, 1e-5, `corr(zx${k}, zx${l})`);
      }
    }
    expect(cca.correlations[0]!).toBeGreaterThan(cca.correlations[1]!);
  });

  it('with one-dimensional views the correlation is |Pearson r|', () => {
    const rng = new Rng(11);
    const x = Array.from({ length: 100 }, () => rng.normal());
    const y = x.map((v) => -0.6 * v + rng.normal());
    const cca = fitCCA({ components: 1, regularization: 0 }, x, y, { xDim: 1, yDim: 1 });
    expectClose(cca.correlations[0]!, Math.abs(sampleCorrelation(x, y)), 1e-12, 'r');
  });

  it('reports misuse', () => {
    expect(() => fitCCA({ components: 3 }, [1, 2, 3, 4], [1, 2, 3, 4], { xDim: 2, yDim: 2 })).toThrow(
      ConfigError,
    );
    expect(() => fitCCA({ components: 1 }, [1, 2, 3], [1, 2], { xDim: 1, yDim: 1 })).toThrow(
      /x has 3 rows but y has 2/,
    );
    expect(() => new CCA().transformX([1])).toThrow(/call fit\(\)/);
    expect(() => fitCCA({ components: 1 }, [1, Number.NaN], [1, 2], { xDim: 1, yDim: 1 })).toThrow(DataError);
    expect(() => CCA.fromJSON({ kind: 'cca' })).toThrow(ConfigError);
  });
});
