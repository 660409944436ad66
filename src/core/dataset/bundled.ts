/**
 * The real datasets shipped in the package under `data/` (features, labels, manifests and each one's
 * SOURCE.md with provenance and licence), resolvable by name so demos and the CLI need no paths.
 *
 * | name | pairs | image view | text view | split |
 * |---|---|---|---|---|
 * | `wikipedia-xmodal` | 2866 | 128-d SIFT BoVW | 10-d LDA | official test (693); val = seeded stratified 10% of the official train (217); train 1956 |
 * | `cub-googlenet-doc2vec` | 600 | 1024-d GoogLeNet | 300-d doc2vec | seeded stratified per class: 42 train / 6 val / 12 test |
 * | `myntra-fashionclip-99` | 99 | 512-d FashionCLIP | 512-d FashionCLIP | seeded: 69 train / 10 val / 20 test |
 * | `myntra-fashionclip-1000` | 1000 | 512-d Marqo-FashionCLIP | 512-d Marqo-FashionCLIP (shared space) | seeded: 700 train / 100 val / 200 test |
 * | `flickr8k-clip-100x5` | 100 images × 5 captions | 512-d CLIP ViT-B/32 | 512-d CLIP ViT-B/32 (shared space) | seeded by image: 70 / 10 / 20 images |
 *
 * @example
 * ```ts
 * import { bundledDataset, loadPairs } from 'cleave';
 * const data = await loadPairs(bundledDataset('wikipedia-xmodal'));
 * data.train.numPairs;   // 1956
 * ```
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from '../errors.js';

/** Names of the bundled datasets. */
export const BUNDLED_DATASETS = [
  'wikipedia-xmodal',
  'cub-googlenet-doc2vec',
  'myntra-fashionclip-99',
  'myntra-fashionclip-1000',
  'flickr8k-clip-100x5',
] as const;
/** A bundled dataset name. */
export type BundledDatasetName = (typeof BUNDLED_DATASETS)[number];

/** The package's `data/` folder (works from `src/` under tsx and from the built `dist/`). */
export function bundledDataDir(): string {
  return fileURLToPath(new URL('../../../data/', import.meta.url));
}

/**
 * Path of a bundled dataset's `manifest.json`, for {@link cleave/io!loadPairs}.
 *
 * @throws DataError for an unknown name (the message lists the known ones)
 */
export function bundledDataset(name: BundledDatasetName | (string & {})): string {
  if (!(BUNDLED_DATASETS as readonly string[]).includes(name)) {
    throw new DataError(`no bundled dataset '${name}' (bundled: ${BUNDLED_DATASETS.join(', ')})`);
  }
  const path = join(bundledDataDir(), name, 'manifest.json');
  if (!existsSync(path))
    throw new DataError(`the bundled dataset '${name}' is missing from ${bundledDataDir()}`);
  return path;
}
