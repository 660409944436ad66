/**
 * The shared, immutable storage of one loaded dataset: the feature arrays, tokens, labels and id
 * lists every view of it points at, and the counts read off them.
 *
 * @example
 * ```ts
 * const store = createStore(init, checkInit(init));
 * classCount(store);   // max label + 1, or the number of class names
 * ```
 */
import type { CheckedInit } from './checks.js';
import type { PairDatasetInit, TokenSequences } from './types.js';

/** Shared, immutable storage of one loaded dataset (internal to `core/dataset`). */
export interface Store {
  imageData: Float32Array;
  imageDim: number;
  imageRegions: number;
  captionData: Float32Array | undefined;
  captionDim: number;
  tokens: TokenSequences | undefined;
  labels: Int32Array | undefined;
  classNames: readonly string[] | undefined;
  imageIds: readonly string[] | undefined;
  captionIds: readonly string[] | undefined;
  captionTexts: readonly string[] | undefined;
  imageUrls: readonly string[] | undefined;
}

/** The storage of the arrays of a checked {@link PairDatasetInit} (no copies). */
export function createStore(init: PairDatasetInit, checked: CheckedInit): Store {
  return {
    imageData: init.images.data,
    imageDim: init.images.dim,
    imageRegions: checked.regions,
    captionData: init.captions.data,
    captionDim: checked.captionDim,
    tokens: init.captions.tokens,
    labels: init.labels,
    classNames: init.classNames,
    imageIds: init.imageIds,
    captionIds: init.captionIds,
    captionTexts: init.captionTexts,
    imageUrls: init.imageUrls,
  };
}

/** Number of classes (max label + 1, or the number of class names), 0 without labels. */
export function classCount(store: Store): number {
  const names = store.classNames?.length ?? 0;
  let max = -1;
  const labels = store.labels;
  if (labels) for (let i = 0; i < labels.length; i++) if (labels[i]! > max) max = labels[i]!;
  return Math.max(names, max + 1);
}

/** The stored `vocabSize`, else the largest id + 1; undefined without tokens. */
export function vocabSizeOf(tokens: TokenSequences | undefined): number | undefined {
  if (!tokens) return undefined;
  if (tokens.vocabSize !== undefined) return tokens.vocabSize;
  let max = -1;
  for (let k = 0; k < tokens.ids.length; k++) if (tokens.ids[k]! > max) max = tokens.ids[k]!;
  return max + 1;
}
