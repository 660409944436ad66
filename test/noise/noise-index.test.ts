import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PairDataset } from '../../src/core/dataset/pair-dataset.js';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { applyNoiseIndex, injectNoise } from '../../src/noise/inject.js';
import { loadNoiseIndex, saveNoiseIndex } from '../../src/noise/noise-index.js';
import { tempDir } from '../core/io/tempdir.js';

// The published files (copied from /work/shared/data/noise-index-f30k) and NumPy statistics of them:
// test/reference/noise_f30k_stats.py
const FIXTURES = join(import.meta.dirname, '../reference/fixtures/noise');
const CAPTION_FILE = join(FIXTURES, 'caption-level_f30k_0.2.npy');
const IMAGE_FILE = join(FIXTURES, 'image-level_f30k_0.2.npy');
type Stats = {
  entries: number;
  noisyPairs: number;
  partial: number;
  complete: number;
  imagesWithNoisyCaption: number;
  pairedSha256: string;
  movedImages?: number;
};
const stats = JSON.parse(await readFile(join(FIXTURES, 'f30k_stats.json'), 'utf8')) as Record<string, Stats>;

/** A dataset of Flickr30K's shape (29,000 train / 1,014 val / 1,000 test images, 5 captions each), labels = image % 7. */
function flickrShaped(): PairDataset {
  const images = 29000 + 1014 + 1000;
  return PairDataset.fromArrays({
    name: 'f30k-shaped',
    images: { data: new Float32Array(images), dim: 1 },
    captions: { data: new Float32Array(images * 5), dim: 1 },
    captionToImage: Int32Array.from({ length: images * 5 }, (_, j) => Math.floor(j / 5)),
    labels: Int32Array.from({ length: images }, (_, i) => i % 7),
    splits: {
      train: { images: Array.from({ length: 29000 }, (_, i) => i) },
      val: { images: Array.from({ length: 1014 }, (_, i) => 29000 + i) },
      test: { images: Array.from({ length: 1000 }, (_, i) => 30014 + i) },
    },
  });
}

const sha = (a: Int32Array) =>
  createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');

describe('published Flickr30K noise index files', () => {
  const data = flickrShaped();

  it('replays the caption-level (NCR) file: caption j ↔ image t2i[j], counts as NumPy finds them', async () => {
    const index = await loadNoiseIndex(CAPTION_FILE, { protocol: 'caption-level' });
    expect(index.numPairs).toBe(stats['caption-level']!.entries);
    const result = applyNoiseIndex(data, index);
    const s = stats['caption-level']!;
    expect(result.summary).toMatchObject({
      protocol: 'caption-level',
      kind: 'published',
      split: 'train',
      coveredPairs: 145000,
      noisyPairs: s.noisyPairs,
      noisyImages: s.imagesWithNoisyCaption,
      partialBy: 'labels',
      partial: s.partial,
      complete: s.complete,
    });
    expect(sha(result.dataset.train.captionToImage)).toBe(s.pairedSha256);
    expect(result.noisy.slice(145000).every((v) => v === 0)).toBe(true); // val/test untouched
  });

  it('replays the image-level (RCL) file: caption j ↔ image noisy_inx[j // 5], as RCL’s data loader does', async () => {
    const index = await loadNoiseIndex(IMAGE_FILE, { protocol: 'image-level' });
    const result = applyNoiseIndex(data, index);
    const s = stats['image-level']!;
    expect(result.summary).toMatchObject({
      protocol: 'image-level',
      coveredPairs: 145000,
      noisyPairs: s.noisyPairs,
      noisyImages: s.movedImages,
      partial: s.partial,
      complete: s.complete,
    });
    expect(sha(result.dataset.train.captionToImage)).toBe(s.pairedSha256);
  });

  it('saves them back byte-identically in the published .npy format', async () => {
    const dir = await tempDir('cleave-noise-');
    for (const [file, protocol] of [
      [CAPTION_FILE, 'caption-level'],
      [IMAGE_FILE, 'image-level'],
    ] as const) {
      const index = await loadNoiseIndex(file, { protocol });
      const out = join(dir, `${protocol}.npy`);
      await saveNoiseIndex(out, index);
      expect((await readFile(out)).equals(await readFile(file))).toBe(true);
    }
  });

  it('refuses a .npy without a protocol, and indices that do not fit the dataset', async () => {
    await expect(loadNoiseIndex(CAPTION_FILE)).rejects.toBeInstanceOf(ConfigError);
    const small = PairDataset.fromArrays({
      images: { data: new Float32Array(10), dim: 1 },
      captions: { data: new Float32Array(50), dim: 1 },
      captionToImage: Int32Array.from({ length: 50 }, (_, j) => Math.floor(j / 5)),
    });
    const index = await loadNoiseIndex(CAPTION_FILE, { protocol: 'caption-level' });
    expect(() => applyNoiseIndex(small, index)).toThrow(
      /noise index has 145000 captions, dataset 'pairs' has 50 pairs/,
    );
    const images = await loadNoiseIndex(IMAGE_FILE, { protocol: 'image-level' });
    expect(() => applyNoiseIndex(small, images)).toThrow(/has 29000 images, dataset 'pairs' has 10/);
    const notPerm = {
      ...images,
      imagePermutation: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 8]),
      numImages: 10,
    };
    expect(() => applyNoiseIndex(small, notPerm)).toThrow(
      /entry 9 \(8\) makes the image-level index not a permutation/,
    );
    const outOfRange = { ...index, captionToImage: Int32Array.from({ length: 50 }, () => 10), numPairs: 50 };
    expect(() => applyNoiseIndex(small, outOfRange)).toThrow(DataError);
  });
});

describe('cleave JSON noise index', () => {
  it('round-trips and replays to the same noisy dataset, naming its protocol', async () => {
    const dir = await tempDir('cleave-noise-');
    const data = PairDataset.fromArrays({
      name: 'toy',
      images: { data: Float32Array.from({ length: 40 }, (_, i) => Math.sin(i)), dim: 2 },
      captions: { data: new Float32Array(60), dim: 1 },
      captionToImage: Int32Array.from({ length: 60 }, (_, j) => j % 20),
      labels: Int32Array.from({ length: 20 }, (_, i) => i % 3),
      splits: {
        train: { images: Array.from({ length: 15 }, (_, i) => i) },
        test: { images: [15, 16, 17, 18, 19] },
      },
    });
    for (const kind of ['shuffle', 'shuffle-images', 'hard'] as const) {
      const result = injectNoise(data, { rate: 0.3, kind, seed: 11, neighbours: 3 });
      const path = join(dir, `${kind}.json`);
      await saveNoiseIndex(path, result.index);
      const json = JSON.parse(await readFile(path, 'utf8'));
      expect(json.protocol).toBe(kind === 'shuffle-images' ? 'image-level' : 'caption-level');
      expect(json.kind).toBe(kind);
      const loaded = await loadNoiseIndex(path);
      expect(loaded).toEqual(result.index);
      const replay = applyNoiseIndex(data, loaded);
      expect(Array.from(replay.dataset.captionToImage)).toEqual(Array.from(result.dataset.captionToImage));
      expect(Array.from(replay.noisy)).toEqual(Array.from(result.noisy));
      // the .npy form holds the published array and replays the same
      const npy = join(dir, `${kind}.npy`);
      await saveNoiseIndex(npy, result.index);
      const fromNpy = await loadNoiseIndex(npy, { protocol: result.index.protocol, split: 'train' });
      expect(Array.from(applyNoiseIndex(data, fromNpy).dataset.captionToImage)).toEqual(
        Array.from(result.dataset.captionToImage),
      );
    }
    // a JSON index made for another pairing is refused
    const index = injectNoise(data, { rate: 0.3, kind: 'shuffle', seed: 1 }).index;
    const other = data.withCaptionToImage(
      Int32Array.from({ length: 60 }, (_, j) => (j % 20 === 14 ? 0 : j % 20)),
    );
    expect(() =>
      applyNoiseIndex(
        other.withSplits({ train: { images: Array.from({ length: 15 }, (_, i) => i) } }),
        index,
      ),
    ).toThrow(/made for another pairing/);
    await writeFile(
      join(dir, 'bad.json'),
      JSON.stringify({
        ...JSON.parse(await readFile(join(dir, 'shuffle.json'), 'utf8')),
        protocol: 'row-level',
      }),
    );
    await expect(loadNoiseIndex(join(dir, 'bad.json'))).rejects.toThrow(
      /bad\.json: bad\.json is not valid:\s+protocol/,
    );
    await expect(
      saveNoiseIndex(join(dir, 'shuffle.json'), index, { protect: [join(dir, 'shuffle.json')] }),
    ).rejects.toThrow(/input of this run/);
  });
});
