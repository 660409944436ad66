/**
 * Noise index files: what reproduces a noisy dataset exactly. Two on-disk forms:
 *
 * - **JSON** (cleave's own): protocol, kind, rate, seed, split, the noisy caption→image map, the clean
 *   map, the truth mask and partial/complete labels — everything a report needs to name its noise.
 * - **`.npy`** as the published code writes it, so a run can replay a paper's very noise:
 *   - `caption-level` (NCR, `t2i_index`): `<i8` of shape (numPairs,): for training caption j, the image
 *     it is now paired with (Flickr30K: 145,000 entries).
 *   - `image-level` (DECL/RCL, `noisy_inx`): `<i8` of shape (numImages,): the captions of image i are
 *     now paired with image `entry[i]` (RCL's loader reads `images[noisy_inx[caption // 5]]`).
 *
 * Indices inside an index are local to the split it covers (`split`, usually `train`), as in the
 * published files, whose image indices count training images from 0.
 *
 * @example
 * ```ts
 * import { injectNoise, loadNoiseIndex, saveNoiseIndex } from 'cleave/noise';
 * const { index } = injectNoise(data, { rate: 0.2, kind: 'shuffle', seed: 7 });
 * await saveNoiseIndex('runs/noise.json', index);
 * await saveNoiseIndex('runs/noise_0.2.npy', index);               // NCR's format
 * const ncr = await loadNoiseIndex('f30k_precomp_0.2.npy', { protocol: 'caption-level' });
 * ```
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import { type NoiseProtocol, noiseProtocolSchema } from '../core/dataset/noise-state.js';
import { ConfigError, DataError, parseOrThrow } from '../core/errors.js';
import { writeFileAtomic } from '../core/io/atomic.js';
import { readNpy, writeNpy } from '../core/io/npy.js';
import {
  type NoiseIndexKind,
  noiseIndexKindSchema,
  type PartialNoiseTest,
  partialNoiseTestSchema,
} from './kinds.js';

/** A noise index (see the module documentation). Arrays are local to `split`. */
export interface NoiseIndex {
  format: 'cleave-noise-index';
  version: 1;
  /** `caption-level` (NCR and followers) or `image-level` (DECL, RCL and followers). */
  protocol: NoiseProtocol;
  /** `shuffle`, `shuffle-images`, `hard`, or `published` for a file read from a paper's release. */
  kind: NoiseIndexKind;
  /** Name of the dataset it was made for, when known. */
  dataset: string | null;
  /** The split whose pairs it covers, or null for all pairs (or unknown, for a published file). */
  split: string | null;
  /** Requested noise rate (null when unknown). */
  rate: number | null;
  seed: number | null;
  /** Fraction of the covered pairs that are noisy, when known. */
  realisedRate: number | null;
  /** Pairs covered (null when unknown, e.g. a published image-level file). */
  numPairs: number | null;
  /** Images of the covered split (null when unknown). */
  numImages: number | null;
  /** Caption-level: the image each covered caption is now paired with. */
  captionToImage?: Int32Array;
  /** Image-level: image i's captions are now paired with image `imagePermutation[i]`. */
  imagePermutation?: Int32Array;
  /** The clean map the noise was applied to (checked on replay when present). */
  cleanCaptionToImage?: Int32Array;
  /** 1 per noisy covered pair. */
  noisy?: Uint8Array;
  /** Per covered pair: 0 clean, 1 partial, 2 complete noise. */
  noiseType?: Uint8Array;
  /** How partial vs complete was decided. */
  partialBy?: PartialNoiseTest;
  /** The k of the neighbour test / hard noise. */
  neighbours?: number;
}

const intArraySchema = z.array(z.number().int());
const noiseIndexJsonSchema = z
  .object({
    format: z.literal('cleave-noise-index'),
    version: z.literal(1),
    protocol: noiseProtocolSchema,
    kind: noiseIndexKindSchema,
    dataset: z.string().nullable().default(null),
    split: z.string().nullable().default(null),
    rate: z.number().min(0).max(1).nullable().default(null),
    seed: z.number().int().nullable().default(null),
    realisedRate: z.number().min(0).max(1).nullable().default(null),
    numPairs: z.number().int().nonnegative().nullable().default(null),
    numImages: z.number().int().nonnegative().nullable().default(null),
    captionToImage: intArraySchema.optional(),
    imagePermutation: intArraySchema.optional(),
    cleanCaptionToImage: intArraySchema.optional(),
    noisy: z.array(z.union([z.literal(0), z.literal(1)])).optional(),
    noiseType: z.array(z.union([z.literal(0), z.literal(1), z.literal(2)])).optional(),
    partialBy: partialNoiseTestSchema.optional(),
    neighbours: z.number().int().positive().optional(),
  })
  .refine((x) => (x.protocol === 'caption-level' ? x.captionToImage : x.imagePermutation) !== undefined, {
    message: 'a caption-level index needs captionToImage, an image-level one imagePermutation',
  });

/**
 * Check the internal consistency of an index (array lengths against `numPairs`/`numImages`).
 *
 * @throws DataError naming `source`
 */
export function validateNoiseIndex(index: NoiseIndex, source = 'noise index'): void {
  const fail = (msg: string) => {
    throw new DataError(msg, { file: source });
  };
  if (index.protocol === 'caption-level' && !index.captionToImage)
    fail('a caption-level index needs captionToImage');
  if (index.protocol === 'image-level' && !index.imagePermutation)
    fail('an image-level index needs imagePermutation');
  const perPair: [string, ArrayLike<number> | undefined][] = [
    ['captionToImage', index.captionToImage],
    ['cleanCaptionToImage', index.cleanCaptionToImage],
    ['noisy', index.noisy],
    ['noiseType', index.noiseType],
  ];
  for (const [name, arr] of perPair) {
    if (arr && index.numPairs !== null && arr.length !== index.numPairs) {
      fail(`${name} has ${arr.length} entries, numPairs is ${index.numPairs}`);
    }
  }
  if (
    index.imagePermutation &&
    index.numImages !== null &&
    index.imagePermutation.length !== index.numImages
  ) {
    fail(`imagePermutation has ${index.imagePermutation.length} entries, numImages is ${index.numImages}`);
  }
}

/** Options of {@link saveNoiseIndex}. */
export interface SaveNoiseIndexOptions {
  /** `json` (everything) or `npy` (the published array only). Default: from the file extension. */
  format?: 'json' | 'npy';
  /** Paths that must never be written (a run's inputs). */
  protect?: readonly string[];
}

/**
 * Save a noise index as cleave JSON, or as the published `.npy` (`<i8`): the caption→image map for a
 * caption-level index, the image permutation for an image-level one.
 *
 * @example
 * ```ts
 * await saveNoiseIndex('runs/noise.json', result.index);
 * await saveNoiseIndex('runs/noise_0.2.npy', result.index);   // what NCR/RCL's loaders read
 * ```
 */
export async function saveNoiseIndex(
  path: string,
  index: NoiseIndex,
  options: SaveNoiseIndexOptions = {},
): Promise<void> {
  validateNoiseIndex(index);
  const format = options.format ?? (path.toLowerCase().endsWith('.npy') ? 'npy' : 'json');
  const protect = options.protect ?? [];
  if (format === 'npy') {
    const arr = index.protocol === 'caption-level' ? index.captionToImage! : index.imagePermutation!;
    await writeNpy(path, arr, [arr.length], { dtype: 'int64', protect: [...protect] });
    return;
  }
  const plain: Record<string, unknown> = { ...index };
  for (const [key, value] of Object.entries(index)) {
    if (ArrayBuffer.isView(value)) plain[key] = Array.from(value as Int32Array);
  }
  await writeFileAtomic(path, `${JSON.stringify(plain)}\n`, { protect });
}

/** Options of {@link loadNoiseIndex}. */
export const loadNoiseIndexOptionsSchema = z.object({
  /** Required for a `.npy` file: which published format it is. */
  protocol: noiseProtocolSchema.optional(),
  /** For a `.npy` file: the split it covers (default: decided when applied). */
  split: z.string().nullable().optional(),
});
/** Options of {@link loadNoiseIndex}, as the caller writes them. */
export type LoadNoiseIndexOptions = z.input<typeof loadNoiseIndexOptionsSchema>;

/**
 * Load a noise index: cleave JSON, or a published `.npy` (say which `protocol` it follows).
 *
 * @throws ConfigError when a `.npy` is loaded without `protocol`; DataError for a malformed file
 */
export async function loadNoiseIndex(path: string, options: LoadNoiseIndexOptions = {}): Promise<NoiseIndex> {
  const opts = parseOrThrow(loadNoiseIndexOptionsSchema, options, 'loadNoiseIndex options');
  const file = basename(path);
  if (file.toLowerCase().endsWith('.npy')) {
    if (!opts.protocol) {
      throw new ConfigError(
        `${file}: say which published format this .npy is: { protocol: 'caption-level' } (NCR's per-caption image index) or { protocol: 'image-level' } (DECL/RCL's per-image permutation)`,
      );
    }
    const { data, shape } = await readNpy(path, { as: 'int32' });
    if (shape.length !== 1) throw new DataError(`expected a 1-D index array, got shape [${shape}]`, { file });
    for (let i = 0; i < data.length; i++) {
      if (data[i]! < 0)
        throw new DataError(`entry ${i} is ${data[i]}, not an image index`, { file, index: i });
    }
    const caption = opts.protocol === 'caption-level';
    return {
      format: 'cleave-noise-index',
      version: 1,
      protocol: opts.protocol,
      kind: 'published',
      dataset: null,
      split: opts.split ?? null,
      rate: null,
      seed: null,
      realisedRate: null,
      numPairs: caption ? data.length : null,
      numImages: caption ? null : data.length,
      ...(caption ? { captionToImage: data } : { imagePermutation: data }),
    };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new DataError(`not a readable JSON noise index (${(error as Error).message})`, { file });
  }
  let parsed: z.output<typeof noiseIndexJsonSchema>;
  try {
    parsed = parseOrThrow(noiseIndexJsonSchema, raw, file);
  } catch (error) {
    if (error instanceof ConfigError) throw new DataError(error.message, { file });
    throw error;
  }
  const index: NoiseIndex = {
    ...parsed,
    captionToImage: parsed.captionToImage ? Int32Array.from(parsed.captionToImage) : undefined,
    imagePermutation: parsed.imagePermutation ? Int32Array.from(parsed.imagePermutation) : undefined,
    cleanCaptionToImage: parsed.cleanCaptionToImage ? Int32Array.from(parsed.cleanCaptionToImage) : undefined,
    noisy: parsed.noisy ? Uint8Array.from(parsed.noisy) : undefined,
    noiseType: parsed.noiseType ? Uint8Array.from(parsed.noiseType) : undefined,
  };
  for (const key of Object.keys(index) as (keyof NoiseIndex)[])
    if (index[key] === undefined) delete index[key];
  validateNoiseIndex(index, file);
  return index;
}
