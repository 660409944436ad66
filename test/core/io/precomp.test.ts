/**
 * The `*_precomp` reader: streamed mean pooling equals the mean of the regions at any chunk size, the
 * NCR loader's caption → image rule (`im_div`), the `dev` quirk, CC152K's `.tsv`, `testall`, the pooled
 * cache (reused, refreshed when the source changes, never inside the input) and the errors.
 */
import { existsSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSyntheticPrecomp } from '../../../src/core/dataset/synthetic-precomp.js';
import { CleaveError, DataError } from '../../../src/core/errors.js';
import { readNpy, writeNpy } from '../../../src/core/io/npy.js';
import { isPrecompFolder, loadPrecomp } from '../../../src/core/io/precomp.js';
import { poolRegionsNpy } from '../../../src/core/io/precomp-regions.js';
import { Rng } from '../../../src/core/random.js';
import { tempDir } from './tempdir.js';

function regions(n: number, r: number, d: number, seed = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * r * d }, () => rng.normal());
}

function meanOfRegions(x: Float32Array, n: number, r: number, d: number): Float64Array {
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < r; k++) for (let t = 0; t < d; t++) out[i * d + t]! += x[(i * r + k) * d + t]! / r;
  return out;
}

/** A hand-written folder: `n` train images × 5 captions, dev with 3 extra images, test of 4. */
async function writeFolder(dir: string, n = 7, r = 3, d = 4) {
  await mkdir(dir, { recursive: true });
  const parts = { train: n, dev: 6, test: 4 };
  const feats: Record<string, Float32Array> = {};
  for (const [p, m] of Object.entries(parts)) {
    feats[p] = regions(m, r, d, m);
    await writeNpy(join(dir, `${p}_ims.npy`), feats[p]!, [m, r, d]);
    const lines = Array.from({ length: m * 5 }, (_, j) => `image ${Math.floor(j / 5)} caption ${j % 5} .`);
    await writeFile(join(dir, `${p}_caps.txt`), `${lines.join('\n')}\n`);
  }
  return feats;
}

describe('poolRegionsNpy', () => {
  it('streams: the mean of the regions at every chunk size, and a prefix of the rows', async () => {
    const dir = await tempDir();
    const x = regions(11, 5, 6);
    await writeNpy(join(dir, 'ims.npy'), x, [11, 5, 6]);
    const want = meanOfRegions(x, 11, 5, 6);
    for (const chunkRows of [1, 4, 11, 64]) {
      const got = await poolRegionsNpy(join(dir, 'ims.npy'), { chunkRows });
      expect([got.rows, got.regions, got.dim, got.fileRows]).toEqual([11, 5, 6, 11]);
      for (let k = 0; k < want.length; k++) expect(got.data[k]).toBeCloseTo(want[k]!, 5);
    }
    const head = await poolRegionsNpy(join(dir, 'ims.npy'), { rows: 3, chunkRows: 2 });
    expect(Array.from(head.data)).toEqual(
      Array.from((await poolRegionsNpy(join(dir, 'ims.npy'))).data.subarray(0, 18)),
    );
  });

  it('names the file and image of a NaN, a truncated file and a wrong dtype', async () => {
    const dir = await tempDir();
    const x = regions(6, 2, 3);
    x[4 * 6 + 1] = Number.NaN;
    await writeNpy(join(dir, 'nan.npy'), x, [6, 2, 3]);
    await expect(poolRegionsNpy(join(dir, 'nan.npy'), { chunkRows: 4 })).rejects.toThrow(
      /nan\.npy: image 4 has a non-finite value/,
    );
    await writeNpy(join(dir, 'f64.npy'), new Float64Array(12), [2, 2, 3]);
    await expect(poolRegionsNpy(join(dir, 'f64.npy'))).rejects.toThrow(/f64\.npy: wrong dtype.*<f8/);
    const bytes = (await import('node:fs')).readFileSync(join(dir, 'nan.npy'));
    await writeFile(join(dir, 'cut.npy'), bytes.subarray(0, bytes.length - 8));
    await expect(poolRegionsNpy(join(dir, 'cut.npy'))).rejects.toThrow(/cut\.npy: truncated/);
  });
});

describe('loadPrecomp', () => {
  it("reads train/dev/test with NCR's rule: 5 captions per image row, dev cut to devImages", async () => {
    const root = await tempDir();
    const dir = join(root, 'toy_precomp');
    const feats = await writeFolder(dir);
    expect(isPrecompFolder(dir)).toBe(true);
    const data = await loadPrecomp(dir, { devImages: 4 });
    expect(data.name).toBe('toy');
    expect(data.describe().splits).toEqual({
      train: { images: 7, pairs: 35 },
      val: { images: 4, pairs: 20 },
      test: { images: 4, pairs: 20 },
    });
    const train = data.train;
    expect(train.captionToImage.subarray(0, 10)).toEqual(Int32Array.from([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]));
    expect(train.captionText(12)).toBe('image 2 caption 2 .');
    const want = meanOfRegions(feats.train!, 7, 3, 4);
    const row = train.imageRow(6);
    for (let t = 0; t < 4; t++) expect(row[t]).toBeCloseTo(want[6 * 4 + t]!, 5);
    expect(data.val.captionText(19)).toBe('image 3 caption 4 .');
    // tokens with a vocabulary built from train + dev (no file): 'image', 'caption', '.' and digits
    expect(data.hasCaptionTokens).toBe(true);
    expect(Array.from(train.captionTokens(0)).at(0)).toBe(1);
    expect(Array.from(train.captionTokens(0)).at(-1)).toBe(2);
    expect(data.hasCaptionFeatures).toBe(false);
  });

  it('caches pooled features beside the output, reuses them, and rebuilds when the source changes', async () => {
    const root = await tempDir();
    const dir = join(root, 'toy_precomp');
    await writeFolder(dir);
    const cacheDir = join(root, 'cache');
    const first = await loadPrecomp(dir, { cacheDir });
    const cached = join(cacheDir, 'toy_train_ims.mean.npy');
    expect(existsSync(cached)).toBe(true);
    expect(existsSync(join(cacheDir, 'toy_precomp_vocab.json'))).toBe(true);
    // a poisoned cache proves the second load reads it …
    const poisoned = new Float32Array(7 * 4).fill(42);
    await writeNpy(cached, poisoned, [7, 4]);
    const second = await loadPrecomp(dir, { cacheDir });
    expect(second.train.imageRow(0)[0]).toBe(42);
    // … and a newer source file invalidates it
    await utimes(join(dir, 'train_ims.npy'), new Date(), new Date(Date.now() + 5000));
    const third = await loadPrecomp(dir, { cacheDir });
    expect(third.train.imageRow(0)).toEqual(first.train.imageRow(0));
    expect((await readNpy(cached)).shape).toEqual([7, 4]);
    await expect(loadPrecomp(dir, { cacheDir: join(dir, 'cache') })).rejects.toThrow(CleaveError);
    await expect(loadPrecomp(dir, { cacheDir: join(dir, 'cache') })).rejects.toThrow(
      /inside the input folder/,
    );
  });

  it('CC152K: img_id<TAB>caption, one caption per image; testall as the test split', async () => {
    const root = await tempDir();
    const dir = await writeSyntheticPrecomp(root, {
      shape: 'cc152k',
      scale: 0.0001,
      regions: 2,
      imageDim: 3,
      captionDim: 0,
    });
    const cc = await loadPrecomp(dir);
    expect(cc.describe().splits).toEqual({
      train: { images: 15, pairs: 15 },
      val: { images: 10, pairs: 10 },
      test: { images: 10, pairs: 10 },
    });
    expect(cc.imageId(0)).toBe('imgtrain0');
    expect(Array.from(cc.captionToImage.subarray(0, 4))).toEqual([0, 1, 2, 3]);

    const coco = await writeSyntheticPrecomp(root, {
      shape: 'coco',
      scale: 0.0001,
      regions: 2,
      imageDim: 3,
      captionDim: 5,
    });
    const all = await loadPrecomp(coco, { test: 'testall' });
    expect(all.describe().splits.test).toEqual({ images: 10, pairs: 50 });
    expect(all.captionDim).toBe(5);
    const plain = await loadPrecomp(coco, { split: ['train', 'test'] });
    expect(plain.splitNames.sort()).toEqual(['test', 'train']);
  });

  it('refuses captions that do not fit the images, naming the file', async () => {
    const root = await tempDir();
    const dir = join(root, 'bad_precomp');
    await writeFolder(dir);
    await writeFile(join(dir, 'test_caps.txt'), 'one\ntwo\nthree\n');
    const err = await loadPrecomp(dir).catch((e) => e);
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toMatch(/test_caps\.txt: 3 captions do not fit 4 images/);
    await expect(loadPrecomp(join(root, 'missing'))).rejects.toThrow(/not a folder/);
  });
});
