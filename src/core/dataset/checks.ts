/**
 * The checks `PairDataset.fromArrays` and friends run on what they are given: image and caption
 * shapes, token offsets, the caption→image map, labels, id lists and split indices. Each throws a
 * {@link DataError} that names the part (`file`) and, where there is one, the entry (`index`).
 *
 * @example
 * ```ts
 * checkCaptionToImage(Int32Array.from([0, 1, 1]), 3, 2, 'captionToImage');   // fine
 * checkCaptionToImage(Int32Array.from([0, 2]), 2, 2, 'captionToImage');      // DataError: caption 1 points at image 2 …
 * ```
 */
import { DataError } from '../errors.js';
import type { PairDatasetInit, TokenSequences } from './types.js';

/** What {@link checkInit} found: the counts and the caption→image map to use. */
export interface CheckedInit {
  numImages: number;
  numCaptions: number;
  captionDim: number;
  regions: number;
  captionToImage: Int32Array;
}

/**
 * Check the arrays of a {@link PairDatasetInit} against each other (no copies of feature arrays).
 *
 * @throws DataError when sizes disagree, a caption points at a missing image, or a label is bad
 */
export function checkInit(init: PairDatasetInit): CheckedInit {
  const regions = init.images.regions ?? 1;
  const { data: imageData, dim: imageDim } = init.images;
  if (!Number.isInteger(imageDim) || imageDim <= 0 || !Number.isInteger(regions) || regions <= 0) {
    throw new DataError(`image dim (${imageDim}) and regions (${regions}) must be positive integers`, {
      file: 'images',
    });
  }
  const stride = regions * imageDim;
  if (imageData.length % stride !== 0) {
    throw new DataError(
      `${imageData.length} values are not a whole number of ${regions}×${imageDim} images`,
      {
        file: 'images',
      },
    );
  }
  const numImages = imageData.length / stride;
  const captionData = init.captions.data;
  const tokens = init.captions.tokens;
  const captionDim = captionData ? (init.captions.dim ?? 0) : 0;
  let numCaptions: number;
  if (captionData) {
    if (!Number.isInteger(captionDim) || captionDim <= 0 || captionData.length % captionDim !== 0) {
      throw new DataError(`${captionData.length} values are not a whole number of ${captionDim}-d captions`, {
        file: 'captions',
      });
    }
    numCaptions = captionData.length / captionDim;
  } else if (tokens) {
    numCaptions = tokens.offsets.length - 1;
  } else {
    throw new DataError('captions need feature vectors (data + dim) or token ids', { file: 'captions' });
  }
  if (tokens) checkTokens(tokens, numCaptions);

  let captionToImage: Int32Array;
  if (init.captionToImage == null) {
    if (numCaptions !== numImages) {
      throw new DataError(
        `there are ${numCaptions} captions and ${numImages} images; without a captionToImage map row i of each must be one pair`,
        { file: 'captions' },
      );
    }
    captionToImage = new Int32Array(numCaptions);
    for (let j = 0; j < numCaptions; j++) captionToImage[j] = j;
  } else {
    captionToImage = init.captionToImage;
    checkCaptionToImage(captionToImage, numCaptions, numImages, 'captionToImage');
  }

  const labels = init.labels;
  if (labels) {
    if (labels.length !== numImages) {
      throw new DataError(`${labels.length} labels for ${numImages} images`, { file: 'labels' });
    }
    for (let i = 0; i < labels.length; i++) {
      if (labels[i]! < 0)
        throw new DataError(`image ${i} has label ${labels[i]}, expected ≥ 0`, {
          file: 'labels',
          index: i,
        });
    }
  }
  const lengths: [string, readonly string[] | undefined, number][] = [
    ['imageIds', init.imageIds, numImages],
    ['imageUrls', init.imageUrls, numImages],
    ['captionIds', init.captionIds, numCaptions],
    ['captionTexts', init.captionTexts, numCaptions],
  ];
  for (const [what, values, expected] of lengths) {
    if (values && values.length !== expected) {
      throw new DataError(
        `${values.length} entries for ${expected} ${what.startsWith('image') ? 'images' : 'captions'}`,
        {
          file: what,
        },
      );
    }
  }
  return { numImages, numCaptions, captionDim, regions, captionToImage };
}

/**
 * Check a caption→image map: one entry per caption, each an image index.
 *
 * @param file the name errors give as the file
 * @throws DataError for a wrong length or an index outside `[0, numImages)`
 */
export function checkCaptionToImage(
  map: Int32Array,
  numCaptions: number,
  numImages: number,
  file: string,
): void {
  if (map.length !== numCaptions) {
    throw new DataError(`${map.length} entries for ${numCaptions} captions`, { file });
  }
  for (let j = 0; j < map.length; j++) {
    const i = map[j]!;
    if (i < 0 || i >= numImages) {
      throw new DataError(
        `caption ${j} points at image ${i}, but there are ${numImages} images (0..${numImages - 1})`,
        {
          file,
          index: j,
        },
      );
    }
  }
}

/**
 * Check CSR token offsets: `numCaptions + 1` entries from 0 to `ids.length`, never decreasing.
 *
 * @throws DataError when they are not
 */
export function checkTokens(tokens: TokenSequences, numCaptions: number): void {
  const { ids, offsets } = tokens;
  if (offsets.length !== numCaptions + 1 || offsets[0] !== 0 || offsets[numCaptions] !== ids.length) {
    throw new DataError(`token offsets must have ${numCaptions + 1} entries from 0 to ${ids.length}`, {
      file: 'captions.tokens',
    });
  }
  for (let j = 0; j < numCaptions; j++) {
    if (offsets[j + 1]! < offsets[j]!) {
      throw new DataError(`token offsets decrease at caption ${j}`, { file: 'captions.tokens', index: j });
    }
  }
}

/**
 * The indices of a split as a sorted `Int32Array`, after checking each is an integer in `[0, limit)`
 * and none is listed twice.
 *
 * @param what `image` or `pair`, for the message
 * @param name the split's name, for the message
 * @throws DataError for a bad or repeated index
 */
export function checkIndexArray(
  values: ArrayLike<number>,
  limit: number,
  what: string,
  name: string,
): Int32Array {
  const out = Int32Array.from(values);
  const seen = new Uint8Array(limit);
  for (let k = 0; k < out.length; k++) {
    const v = out[k]!;
    if (!Number.isInteger(values[k]) || v < 0 || v >= limit) {
      throw new DataError(
        `split '${name}': entry ${k} is ${values[k]}, not a ${what} index in [0, ${limit})`,
        {
          file: name,
          index: k,
        },
      );
    }
    if (seen[v])
      throw new DataError(`split '${name}': ${what} ${v} is listed twice`, { file: name, index: k });
    seen[v] = 1;
  }
  return out.sort();
}
