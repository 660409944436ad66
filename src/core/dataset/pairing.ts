/**
 * Arithmetic on a caption→image map: resolving named splits (a split by images takes all captions
 * currently paired with those images, a split by pairs takes the images of its pairs), the map of a
 * split view renumbered from 0, the inverse map (captions per image) and its counts.
 *
 * @example
 * ```ts
 * const defs = resolveSplits({ train: { images: [0] } }, Int32Array.from([0, 0, 1]), 2, 'toy');
 * defs.get('train');   // { images: [0], pairs: [0, 1] }
 * ```
 */
import { DataError } from '../errors.js';
import { checkIndexArray } from './checks.js';
import type { SplitDef, SplitSpec } from './types.js';

/**
 * The image and pair indices of each named split.
 *
 * @param captionToImage the dataset's caption→image map
 * @param numImages the dataset's number of images
 * @param datasetName for the messages
 * @throws DataError for an out-of-range or repeated index, or an empty split
 */
export function resolveSplits(
  splits: Record<string, SplitSpec>,
  captionToImage: Int32Array,
  numImages: number,
  datasetName: string,
): Map<string, SplitDef> {
  const numPairs = captionToImage.length;
  const defs = new Map<string, SplitDef>();
  for (const [name, spec] of Object.entries(splits)) {
    let images: Int32Array;
    let pairs: Int32Array;
    if ('images' in spec) {
      images = checkIndexArray(spec.images, numImages, 'image', name);
      const inSplit = new Uint8Array(numImages);
      for (const i of images) inSplit[i] = 1;
      const list: number[] = [];
      for (let j = 0; j < numPairs; j++) if (inSplit[captionToImage[j]!]) list.push(j);
      pairs = Int32Array.from(list);
    } else {
      pairs = checkIndexArray(spec.pairs, numPairs, 'pair', name);
      const inSplit = new Uint8Array(numImages);
      for (const j of pairs) inSplit[captionToImage[j]!] = 1;
      const list: number[] = [];
      for (let i = 0; i < numImages; i++) if (inSplit[i]) list.push(i);
      images = Int32Array.from(list);
    }
    if (pairs.length === 0) {
      throw new DataError(`split '${name}' is empty (no pairs): choose larger fractions or other indices`, {
        file: datasetName,
      });
    }
    defs.set(name, { images, pairs });
  }
  return defs;
}

/**
 * The index maps of a split view: `toLocal` (parent image → view image, −1 outside) and the view's
 * caption→image map.
 *
 * @throws DataError when a pair of the split is paired with an image outside it
 */
export function splitMaps(
  def: SplitDef,
  captionToImage: Int32Array,
  numImages: number,
  splitName: string,
  datasetName: string,
): { toLocal: Int32Array; captionToImage: Int32Array } {
  const toLocal = new Int32Array(numImages).fill(-1);
  for (let k = 0; k < def.images.length; k++) toLocal[def.images[k]!] = k;
  const map = new Int32Array(def.pairs.length);
  for (let k = 0; k < def.pairs.length; k++) {
    const j = def.pairs[k]!;
    const local = toLocal[captionToImage[j]!]!;
    if (local < 0) {
      throw new DataError(
        `pair ${j} of split '${splitName}' is paired with image ${captionToImage[j]}, which is not in the split`,
        { file: datasetName, index: j },
      );
    }
    map[k] = local;
  }
  return { toLocal, captionToImage: map };
}

/**
 * The inverse of a caption→image map, CSR style: image i's captions are
 * `captions[offsets[i] .. offsets[i+1])`, ascending.
 *
 * @example
 * ```ts
 * invertPairing(Int32Array.from([1, 0, 1]), 2);   // { offsets: [0, 1, 3], captions: [1, 0, 2] }
 * ```
 */
export function invertPairing(
  captionToImage: Int32Array,
  numImages: number,
): { offsets: Int32Array; captions: Int32Array } {
  const counts = new Int32Array(numImages + 1);
  const map = captionToImage;
  for (let j = 0; j < map.length; j++) counts[map[j]! + 1]! += 1;
  for (let k = 0; k < numImages; k++) counts[k + 1] = counts[k + 1]! + counts[k]!;
  const fill = counts.slice(0, numImages);
  const captions = new Int32Array(map.length);
  for (let j = 0; j < map.length; j++) captions[fill[map[j]!]!++] = j;
  return { offsets: counts, captions };
}

/** Fewest, most and mean captions per image (all 0 without images). */
export function captionsPerImage(
  captionToImage: Int32Array,
  numImages: number,
): { min: number; max: number; mean: number } {
  const numPairs = captionToImage.length;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  const counts = new Int32Array(numImages);
  for (let j = 0; j < numPairs; j++) counts[captionToImage[j]!]! += 1;
  for (let i = 0; i < counts.length; i++) {
    min = Math.min(min, counts[i]!);
    max = Math.max(max, counts[i]!);
  }
  return {
    min: numImages ? min : 0,
    max,
    mean: numImages ? numPairs / numImages : 0,
  };
}

/**
 * The image each of the given pairs is paired with.
 *
 * @throws RangeError for an index that is not a pair
 */
export function imagesOfPairs(captionToImage: Int32Array, pairs: ArrayLike<number>): Int32Array {
  const numPairs = captionToImage.length;
  const imgIdx = new Int32Array(pairs.length);
  for (let k = 0; k < pairs.length; k++) {
    const j = pairs[k]!;
    if (!(j >= 0 && j < numPairs)) throw new RangeError(`gatherPairs: pair ${j} outside [0, ${numPairs})`);
    imgIdx[k] = captionToImage[j]!;
  }
  return imgIdx;
}
