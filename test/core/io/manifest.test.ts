import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { BUNDLED_DATASETS, bundledDataset } from '../../../src/core/dataset/bundled.js';
import type { PairDataset } from '../../../src/core/dataset/pair-dataset.js';
import { ConfigError, DataError } from '../../../src/core/errors.js';
import { loadClipRetrievalFolder } from '../../../src/core/io/clip-retrieval.js';
import { writeF32Bin } from '../../../src/core/io/f32bin.js';
import { float16ToFloat32, float32ToFloat16 } from '../../../src/core/io/float16.js';
import { loadPairs } from '../../../src/core/io/manifest.js';
import { writeNpy } from '../../../src/core/io/npy.js';
import { tempDir } from './tempdir.js';

const FIXTURES = join(import.meta.dirname, '../../reference/fixtures/io');

async function writeManifest(dir: string, manifest: object, name = 'manifest.json'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(manifest));
  return path;
}

const countBy = (values: ArrayLike<number>) => {
  const out = new Map<number, number>();
  for (const v of Array.from(values)) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
};

describe('bundled datasets', () => {
  it('Wikipedia: counts, classes and the official split of SOURCE.md, plus a seeded stratified 10% val', async () => {
    const data = await loadPairs(bundledDataset('wikipedia-xmodal'));
    expect([data.numImages, data.numPairs, data.imageDim, data.captionDim]).toEqual([2866, 2866, 128, 10]);
    // SOURCE.md: class sizes and names
    const names = [
      'art',
      'biology',
      'geography',
      'history',
      'literature',
      'media',
      'music',
      'royalty',
      'sport',
      'warfare',
    ];
    const sizes = [172, 360, 340, 333, 267, 236, 237, 185, 285, 451];
    expect(data.classNames).toEqual(names);
    const counts = countBy(data.labels!);
    expect(names.map((_, c) => counts.get(c))).toEqual(sizes);
    // Official split: rows 2173.. are test; per-class train counts from SOURCE.md
    const trainPerClass = [138, 272, 244, 248, 202, 178, 186, 144, 214, 347];
    const test = data.splitIndices('test').images;
    expect(Array.from(test)).toEqual(Array.from({ length: 693 }, (_, k) => 2173 + k));
    const val = data.splitIndices('val').images;
    const train = data.splitIndices('train').images;
    const valCounts = countBy(Array.from(val, (i) => data.labels![i]!));
    expect(trainPerClass.map((_, c) => valCounts.get(c))).toEqual(
      trainPerClass.map((n) => Math.round(0.1 * n)),
    );
    expect(train.length + val.length).toBe(2173);
    expect(Math.max(...Array.from(val), ...Array.from(train))).toBeLessThan(2173);
    expect([data.train.numPairs, data.val.numPairs, data.test.numPairs]).toEqual([1956, 217, 693]);
    const again = await loadPairs(bundledDataset('wikipedia-xmodal'));
    expect(Array.from(again.splitIndices('val').images)).toEqual(Array.from(val));
  });

  it('CUB: 10 classes × 60 sorted by class, stratified 42/6/12 per class', async () => {
    const data = await loadPairs(bundledDataset('cub-googlenet-doc2vec'));
    expect([data.numPairs, data.imageDim, data.captionDim]).toEqual([600, 1024, 300]);
    expect(Array.from(data.labels!)).toEqual(Array.from({ length: 600 }, (_, i) => Math.floor(i / 60)));
    for (const [name, perClass] of [
      ['train', 42],
      ['val', 6],
      ['test', 12],
    ] as const) {
      const labels = data.split(name).labels!;
      expect([...countBy(labels).values()]).toEqual(Array(10).fill(perClass));
    }
  });

  it('Myntra: titles and URLs come along, and the FashionCLIP pairs are aligned (image→text R@1 of SOURCE.md)', async () => {
    const data = await loadPairs(bundledDataset('myntra-fashionclip-99'));
    expect(data.captionText(0)).toBe('Turtle Check Men Navy Blue Shirt');
    expect(data.imageId(0)).toBe('15970');
    expect(data.imageUrl(0)).toMatch(/^http:\/\/assets\.myntassets\.com\//);
    expect([data.train.numPairs, data.val.numPairs, data.test.numPairs]).toEqual([69, 10, 20]);
    // SOURCE.md: after L2 normalisation, image→text R@1 = 0.848 (84 of 99)
    const img = data.imageMatrix();
    const txt = data.captionMatrix();
    const unit = (m: Float32Array, i: number) => {
      const row = m.subarray(i * 512, i * 512 + 512);
      const norm = Math.hypot(...row);
      return Array.from(row, (v) => v / norm);
    };
    const I = Array.from({ length: 99 }, (_, i) => unit(img, i));
    const T = Array.from({ length: 99 }, (_, i) => unit(txt, i));
    let hits = 0;
    for (let i = 0; i < 99; i++) {
      let best = -1;
      let bestSim = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < 99; j++) {
        let s = 0;
        for (let d = 0; d < 512; d++) s += I[i]![d]! * T[j]![d]!;
        if (s > bestSim) {
          bestSim = s;
          best = j;
        }
      }
      if (best === i) hits++;
    }
    expect(hits / 99).toBeCloseTo(0.848, 3);
  });

  it('resolves names and lists them when one is unknown', () => {
    expect(BUNDLED_DATASETS).toContain('wikipedia-xmodal');
    expect(() => bundledDataset('flickr30k')).toThrow(
      /no bundled dataset 'flickr30k' \(bundled: wikipedia-xmodal/,
    );
  });
});

/** A small dataset on disk: 6 images (4-d, one of them 2 regions) and 9 captions. */
async function smallFiles(dir: string): Promise<void> {
  const img = Float32Array.from({ length: 6 * 4 }, (_, k) => k / 10);
  await writeNpy(join(dir, 'img.npy'), img, [6, 4]);
  await writeF32Bin(
    join(dir, 'cap.f32.bin'),
    Float32Array.from({ length: 9 * 3 }, (_, k) => -k),
    [9, 3],
  );
  await writeNpy(join(dir, 'c2i.npy'), Int32Array.from([0, 0, 1, 2, 3, 3, 3, 4, 5]), [9], { dtype: 'int64' });
  await writeFile(
    join(dir, 'labels.csv'),
    'index,cls,split\n0,b,train\n1,a,train\n2,b,test\n3,a,train\n4,"b",val\n5,a,train\n',
  );
  await writeFile(join(dir, 'caps.txt'), 'c0\nc1\nc2\nc3\nc4\nc5\nc6\nc7\nc8\n');
}

const base = {
  name: 'small',
  images: 'img.npy',
  captions: { path: 'cap.f32.bin' },
  captionToImage: { path: 'c2i.npy' },
};

describe('loadPairs', () => {
  it('reads every piece, with relative and absolute paths', async () => {
    const dir = await tempDir();
    await smallFiles(dir);
    const manifest = await writeManifest(dir, {
      ...base,
      captions: { path: join(dir, 'cap.f32.bin') },
      captionTexts: 'caps.txt',
      labels: { path: 'labels.csv', column: 'cls' },
      split: { path: 'labels.csv', column: 'split' },
    });
    const data = await loadPairs(manifest);
    expect([data.numImages, data.numPairs, data.imageDim, data.captionDim]).toEqual([6, 9, 4, 3]);
    expect(Array.from(data.captionToImage)).toEqual([0, 0, 1, 2, 3, 3, 3, 4, 5]);
    expect(data.classNames).toEqual(['a', 'b']);
    expect(Array.from(data.labels!)).toEqual([1, 0, 1, 0, 1, 0]);
    expect(data.captionText(8)).toBe('c8');
    expect(Array.from(data.captionRow(2))).toEqual([-6, -7, -8]);
    expect(data.split('train').numPairs).toBe(7);
    expect(Array.from(data.split('val').parentPairIndices!)).toEqual([7]);
  });

  it('supports captionToImage as JSON and JSONL, regions, random splits and explicit lists', async () => {
    const dir = await tempDir();
    await smallFiles(dir);
    await writeFile(join(dir, 'c2i.json'), '[0, 0, 1, 2, 3, 3, 3, 4, 5]');
    await writeFile(
      join(dir, 'pairs.jsonl'),
      [0, 0, 1, 2, 3, 3, 3, 4, 5].map((i) => JSON.stringify({ image: i })).join('\n'),
    );
    const viaJson = await loadPairs(
      await writeManifest(dir, { ...base, captionToImage: 'c2i.json' }, 'a.json'),
    );
    const viaJsonl = await loadPairs(
      await writeManifest(
        dir,
        { ...base, captionToImage: { path: 'pairs.jsonl', field: 'image' } },
        'b.json',
      ),
    );
    expect(Array.from(viaJsonl.captionToImage)).toEqual(Array.from(viaJson.captionToImage));

    await writeF32Bin(join(dir, 'cap3.f32.bin'), new Float32Array(3 * 2), [3, 2]);
    const r = await loadPairs(
      await writeManifest(
        dir,
        { ...base, images: { path: 'img.npy', regions: 2 }, captionToImage: null, captions: 'cap3.f32.bin' },
        'd.json',
      ),
    );
    expect([r.numImages, r.imageRegions, r.imageDim]).toEqual([3, 2, 4]);
    expect(Array.from(r.imageRow(1))).toEqual(Array.from({ length: 8 }, (_, k) => Math.fround((8 + k) / 10)));

    const random = await loadPairs(
      await writeManifest(dir, { ...base, split: { seed: 3, test: 0.34, val: 0.17 } }, 'e.json'),
    );
    expect(random.splitNames.sort()).toEqual(['test', 'train', 'val']);
    expect(random.splitIndices('test').images.length).toBe(2);
    // all captions of an image in one split
    for (const name of random.splitNames) {
      const imgs = new Set(random.splitIndices(name).images);
      for (const j of random.splitIndices(name).pairs) expect(imgs.has(random.captionToImage[j]!)).toBe(true);
    }
    const lists = await loadPairs(
      await writeManifest(
        dir,
        { ...base, split: { by: 'pairs', train: [0, 1, 2, 3], test: [7, 8] } },
        'f.json',
      ),
    );
    expect(Array.from(lists.splitIndices('train').images)).toEqual([0, 1, 2]);
    await writeFile(join(dir, 'splits.json'), JSON.stringify({ train: [0, 1, 2, 3], test: [4, 5] }));
    const fromFile = await loadPairs(
      await writeManifest(dir, { ...base, split: { path: 'splits.json' } }, 'g.json'),
    );
    expect(Array.from(fromFile.splitIndices('test').pairs)).toEqual([7, 8]);
  });

  it('names the file and index of bad data', async () => {
    const dir = await tempDir();
    await smallFiles(dir);
    const load = (m: object, name: string) => writeManifest(dir, m, name).then((p) => loadPairs(p));

    const nan = Float32Array.from({ length: 24 }, () => 1);
    nan[4 * 4 + 2] = Number.NaN;
    await writeNpy(join(dir, 'nan.npy'), nan, [6, 4]);
    await expect(load({ ...base, images: 'nan.npy' }, 'm1.json')).rejects.toThrow(
      'nan.npy: row 4, column 2 is NaN',
    );

    await expect(load({ ...base, captionToImage: null }, 'm2.json')).rejects.toThrow(
      /cap\.f32\.bin: cap\.f32\.bin has 9 captions but img\.npy has 6 images/,
    );
    await writeFile(join(dir, 'bad_c2i.json'), '[0, 0, 1, 2, 3, 3, 9, 4, 5]');
    const err = await load({ ...base, captionToImage: 'bad_c2i.json' }, 'm3.json').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toBe(
      'bad_c2i.json: caption 6 points at image 9, but img.npy has 6 images',
    );
    expect((err as DataError).index).toBe(6);
    await writeFile(join(dir, 'short_c2i.json'), '[0, 0, 1]');
    await expect(load({ ...base, captionToImage: 'short_c2i.json' }, 'm4.json')).rejects.toThrow(
      /short_c2i\.json: 3 entries, but cap\.f32\.bin has 9 captions/,
    );

    const bytes = await readFile(join(dir, 'img.npy'));
    await writeFile(join(dir, 'cut.npy'), bytes.subarray(0, bytes.length - 8));
    await expect(load({ ...base, images: 'cut.npy' }, 'm5.json')).rejects.toThrow(/cut\.npy: truncated/);
    await expect(load({ ...base, images: join(FIXTURES, 'i4_c.npy') }, 'm6.json')).rejects.toThrow(
      /i4_c\.npy: wrong dtype/,
    );
    await writeFile(join(dir, 'few.csv'), 'cls\na\nb\n');
    await expect(load({ ...base, labels: { path: 'few.csv', column: 'cls' } }, 'm7.json')).rejects.toThrow(
      /few\.csv: 2 labels, but img\.npy has 6 images/,
    );
    await expect(load({ ...base, split: { seed: 0, test: 0.5, val: 0.01 } }, 'm8.json')).rejects.toThrow(
      /split 'val' is empty/,
    );
    await writeFile(join(dir, 'holes.csv'), 'split\ntrain\ntrain\n\ntest\ntest\ntrain\n');
    // (an empty CSV line is skipped, so one image has no split value)
    await expect(load({ ...base, split: { path: 'holes.csv', column: 'split' } }, 'm9.json')).rejects.toThrow(
      'holes.csv: 5 split values for 6 images',
    );
    await writeFile(join(dir, 'blank.csv'), 'split,x\ntrain,1\ntrain,1\n,1\ntest,1\ntest,1\ntrain,1\n');
    await expect(
      load({ ...base, split: { path: 'blank.csv', column: 'split' } }, 'm10.json'),
    ).rejects.toThrow(/blank\.csv: row 2 has an empty split name/);
    await expect(load({ ...base, images: 'missing.npy' }, 'm11.json')).rejects.toThrow(/missing\.npy/);
  });

  it('reports manifest mistakes as ConfigErrors naming the manifest and the key', async () => {
    const dir = await tempDir();
    const err = await loadPairs(
      await writeManifest(dir, { name: 'x', images: 'a.npy', captions: 'b.npy', imagez: 1 }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/^manifest\.json is not valid/);
    expect((err as ConfigError).message).toMatch(/imagez/);
    await expect(
      loadPairs(await writeManifest(dir, { name: 'x', captions: 'b.npy' }, 'n.json')),
    ).rejects.toThrow(/give either "images" and "captions"/);
    await writeFile(join(dir, 'broken.json'), '{ "name": ');
    await expect(loadPairs(join(dir, 'broken.json'))).rejects.toThrow(
      /broken\.json: manifest is not valid JSON/,
    );
    await expect(loadPairs(join(dir, 'nope.json'))).rejects.toThrow(/nope\.json: manifest not found/);
  });

  it('never writes to its inputs', async () => {
    const dir = await tempDir();
    await smallFiles(dir);
    const manifest = await writeManifest(dir, { ...base, labels: { path: 'labels.csv', column: 'cls' } });
    const snapshot = async () => {
      const out: Record<string, string> = {};
      for (const f of (await readdir(dir)).sort())
        out[f] = createHash('sha256')
          .update(await readFile(join(dir, f)))
          .digest('hex');
      return out;
    };
    const before = await snapshot();
    await loadPairs(manifest);
    expect(await snapshot()).toEqual(before);
  });
});

/** Write a clip-retrieval folder: shards of `sizes` rows, float16 embeddings, metadata Parquet. */
async function clipFolder(dir: string, sizes: number[], dim = 4): Promise<Float32Array[]> {
  for (const sub of ['img_emb', 'text_emb', 'metadata']) await mkdir(join(dir, sub), { recursive: true });
  const images: Float32Array[] = [];
  let offset = 0;
  for (const [s, rows] of sizes.entries()) {
    const img = Float32Array.from({ length: rows * dim }, (_, k) => Math.sin(offset * dim + k));
    const txt = Float32Array.from({ length: rows * dim }, (_, k) => Math.cos(offset * dim + k));
    images.push(img);
    await writeNpy(join(dir, 'img_emb', `img_emb_${s}.npy`), img, [rows, dim], { dtype: 'float16' });
    await writeNpy(join(dir, 'text_emb', `text_emb_${s}.npy`), txt, [rows, dim], { dtype: 'float16' });
    const captions = Array.from({ length: rows }, (_, r) =>
      r === 1 ? null : `caption ${offset + r}, "quoted"`,
    );
    const buf = parquetWriteBuffer({
      columnData: [
        { name: 'image_path', data: Array.from({ length: rows }, (_, r) => `${offset + r}.jpg`) },
        { name: 'caption', data: captions, type: 'STRING', nullable: true },
        { name: 'url', data: Array.from({ length: rows }, (_, r) => `http://example.org/${offset + r}.jpg`) },
        { name: 'key', data: Array.from({ length: rows }, (_, r) => String(offset + r).padStart(9, '0')) },
      ],
    });
    await writeFile(join(dir, 'metadata', `metadata_${s}.parquet`), new Uint8Array(buf));
    offset += rows;
  }
  return images;
}

describe('clip-retrieval folders', () => {
  it('concatenate shards in numeric order with captions, URLs and keys from Parquet', async () => {
    const dir = await tempDir();
    const images = await clipFolder(dir, [3, 2, 4]);
    const data: PairDataset = await loadClipRetrievalFolder(dir);
    expect([data.numPairs, data.imageDim, data.captionDim]).toEqual([9, 4, 4]);
    const expected = float16ToFloat32(
      float32ToFloat16(Float32Array.from(images.flatMap((a) => Array.from(a)))),
    );
    expect(Array.from(data.imageMatrix())).toEqual(Array.from(expected));
    expect(data.captionText(0)).toBe('caption 0, "quoted"');
    expect(data.captionText(1)).toBe('');
    expect(data.captionText(5)).toBe('caption 5, "quoted"');
    expect(data.imageUrl(8)).toBe('http://example.org/8.jpg');
    expect(data.imageId(4)).toBe('000000004');
    const split = await loadClipRetrievalFolder(dir, { split: { seed: 0, test: 0.34 } });
    expect(split.test.numPairs).toBe(3);
    // through a manifest too
    const viaManifest = await loadPairs(
      await writeManifest(dir, { name: 'web', clipRetrieval: { folder: '.' } }, 'web.json'),
    );
    expect(viaManifest.captionText(3)).toBe('caption 3, "quoted"');
  });

  it('orders shards numerically and reports mismatched shards', async () => {
    const dir = await tempDir();
    await clipFolder(dir, Array(11).fill(1));
    const data = await loadClipRetrievalFolder(dir);
    expect(Array.from({ length: 11 }, (_, i) => data.imageId(i))).toEqual(
      Array.from({ length: 11 }, (_, i) => String(i).padStart(9, '0')),
    );

    const bad = await tempDir();
    await clipFolder(bad, [3, 2]);
    await writeNpy(join(bad, 'text_emb', 'text_emb_1.npy'), new Float32Array(3 * 4), [3, 4]);
    await expect(loadClipRetrievalFolder(bad)).rejects.toThrow(
      /img_emb_1\.npy: 2 image embeddings but text_emb_1\.npy has 3 rows/,
    );
    await writeNpy(join(bad, 'img_emb', 'img_emb_2.npy'), new Float32Array(4), [1, 4]);
    await expect(loadClipRetrievalFolder(bad)).rejects.toThrow(
      /img_emb shard img_emb_2\.npy has no text_emb_2\.npy/,
    );

    const meta = await tempDir();
    await clipFolder(meta, [3]);
    await writeNpy(join(meta, 'img_emb', 'img_emb_0.npy'), new Float32Array(2 * 4), [2, 4]);
    await writeNpy(join(meta, 'text_emb', 'text_emb_0.npy'), new Float32Array(2 * 4), [2, 4]);
    await expect(loadClipRetrievalFolder(meta)).rejects.toThrow(
      /metadata_0\.parquet: 3 metadata rows, but the embedding shards have 2/,
    );
  });
});
