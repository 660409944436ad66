/**
 * Fixtures of the run/experiment tests: a clip-retrieval embedding folder of "scraped" pairs written by
 * the test itself (npy shards + Parquet metadata), with a known share of shuffled (mismatched) captions.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { writeFileAtomic } from '../../src/core/io/atomic.js';
import { writeNpy } from '../../src/core/io/npy.js';
import { Rng } from '../../src/core/random.js';
import { syntheticPairs } from '../trainer/helpers.js';

export { SMALL, syntheticPairs, useCpu } from '../trainer/helpers.js';

/** A fresh temporary folder and a function that removes it. */
export function tempDir(prefix = 'cleave-run-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Write `n` pairs as a clip-retrieval folder in two shards (the first float16, the second float32),
 * with `metadata_<k>.parquet` holding caption, url and key; `rate` of the captions are moved to other
 * images (a derangement of a seeded subset), as a scraper's mismatches would be. With `shared`, the
 * captions live in the images' space (caption = image + noise, as CLIP embeddings would), so the input
 * cosine is meaningful.
 * @returns the truth mask (1 = mismatched pair), in pair order
 */
export async function writeScrapedFolder(
  folder: string,
  options: { n?: number; rate?: number; seed?: number; shared?: boolean } = {},
): Promise<{ noisy: Uint8Array; ids: string[] }> {
  const n = options.n ?? 160;
  const data = syntheticPairs({ images: n, train: 0.8, seed: options.seed ?? 2 });
  const dI = data.imageDim;
  const dT = options.shared ? dI : data.captionDim;
  const images = data.imageMatrix();
  const rng = new Rng(options.seed ?? 2).fork('scrape');
  const noiseRng = new Rng(options.seed ?? 2).fork('shared');
  const clean = options.shared
    ? Float32Array.from(images, (v) => v + 0.5 * noiseRng.normal())
    : data.captionMatrix();
  const picked = Array.from(rng.sample(n, Math.round(n * (options.rate ?? 0.3)))).sort((a, b) => a - b);
  const captions = Float32Array.from(clean);
  const noisy = new Uint8Array(n);
  // rotate the picked captions by one: every picked pair gets another pair's caption
  picked.forEach((j, k) => {
    const from = picked[(k + 1) % picked.length]!;
    captions.set(clean.subarray(from * dT, from * dT + dT), j * dT);
    noisy[j] = 1;
  });
  const ids = Array.from({ length: n }, (_, j) => `key${String(j).padStart(5, '0')}`);
  const half = Math.floor(n / 2);
  const shards = [
    [0, half],
    [half, n],
  ] as const;
  for (const sub of ['img_emb', 'text_emb', 'metadata']) mkdirSync(join(folder, sub), { recursive: true });
  for (const [k, [a, b]] of shards.entries()) {
    const dtype = k === 0 ? 'float16' : 'float32';
    await writeNpy(join(folder, 'img_emb', `img_emb_${k}.npy`), images.slice(a * dI, b * dI), [b - a, dI], {
      dtype,
    });
    await writeNpy(
      join(folder, 'text_emb', `text_emb_${k}.npy`),
      captions.slice(a * dT, b * dT),
      [b - a, dT],
      {
        dtype,
      },
    );
    const rows = Array.from({ length: b - a }, (_, t) => a + t);
    const bytes = parquetWriteBuffer({
      columnData: [
        {
          name: 'caption',
          data: rows.map((j) => `caption number ${j}, "quoted", with a comma`),
          type: 'STRING',
        },
        { name: 'url', data: rows.map((j) => `https://example.org/img/${j}.jpg`), type: 'STRING' },
        { name: 'key', data: rows.map((j) => ids[j]!), type: 'STRING' },
        { name: 'width', data: rows.map((j) => 100 + j), type: 'INT32' },
      ],
    });
    await writeFileAtomic(join(folder, 'metadata', `metadata_${k}.parquet`), new Uint8Array(bytes));
  }
  return { noisy, ids };
}

/**
 * Write a synthetic dataset ({@link syntheticPairs}) as a manifest folder: `images.npy`,
 * `captions.npy`, `labels.npy`, `manifest.json` with the train/val/test image lists.
 * @returns the manifest path
 */
export async function writeSyntheticManifest(
  folder: string,
  options: Parameters<typeof syntheticPairs>[0] = {},
  extra: Record<string, unknown> = {},
): Promise<string> {
  const data = syntheticPairs(options);
  mkdirSync(folder, { recursive: true });
  await writeNpy(join(folder, 'images.npy'), data.imageMatrix(), [data.numImages, data.imageDim]);
  await writeNpy(join(folder, 'captions.npy'), data.captionMatrix(), [data.numPairs, data.captionDim]);
  await writeNpy(join(folder, 'labels.npy'), data.labels!, [data.numImages]);
  const list = (name: string) => Array.from(data.splitIndices(name).images);
  const manifest = {
    name: 'synthetic',
    images: 'images.npy',
    captions: 'captions.npy',
    captionToImage: null,
    labels: 'labels.npy',
    split: { by: 'images', train: list('train'), val: list('val'), test: list('test') },
    ...extra,
  };
  const path = join(folder, 'manifest.json');
  await writeFileAtomic(path, JSON.stringify(manifest));
  return path;
}
