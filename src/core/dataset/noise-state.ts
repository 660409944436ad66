/**
 * The ground truth of synthetic noise a noisy dataset carries ({@link PairNoiseInfo}), and its
 * bookkeeping: checking it against a dataset, restricting it to a split view, summarising it.
 * The noise module creates it; `PairDataset` only keeps it in step with its views.
 *
 * @example
 * ```ts
 * NOISE_PROTOCOLS;                              // ['caption-level', 'image-level']
 * noiseProtocolSchema.parse('image-level');     // 'image-level'
 * ```
 */
import { z } from 'zod';

/**
 * How noise is counted: `caption-level` (NCR and followers: a pair is one caption) or `image-level`
 * (DECL, RCL: all captions of an image move together).
 */
export const NOISE_PROTOCOLS = ['caption-level', 'image-level'] as const;
/** One of {@link NOISE_PROTOCOLS}. */
export const noiseProtocolSchema = z.enum(NOISE_PROTOCOLS);
/** `caption-level` or `image-level`: reports must name it. */
export type NoiseProtocol = z.infer<typeof noiseProtocolSchema>;

/** Ground truth of synthetic noise carried by a noisy dataset (set by the noise module). */
export interface PairNoiseInfo {
  /** `caption-level` (NCR and followers) or `image-level` (DECL, RCL): reports must name it. */
  protocol: NoiseProtocol;
  /** The generator: `shuffle`, `shuffle-images`, `hard`, or `published` for a replayed index file. */
  kind: string;
  /** Requested rate, or null for a replayed file. */
  rate: number | null;
  seed: number | null;
  /** 1 where pair j's caption is no longer paired with its own image. Length `numPairs`. */
  noisy: Uint8Array;
  /** The clean caption→image map (−1 where the clean image lies outside this view). */
  cleanCaptionToImage: Int32Array;
  /** Per pair: 0 clean, 1 partial noise (shares semantics), 2 complete noise; absent when unknown. */
  noiseType?: Uint8Array;
}

/**
 * Check that noise info has one entry per pair.
 *
 * @throws RangeError when it does not
 */
export function checkNoiseInfo(noise: PairNoiseInfo | undefined, numPairs: number): void {
  if (noise && (noise.noisy.length !== numPairs || noise.cleanCaptionToImage.length !== numPairs)) {
    throw new RangeError('withCaptionToImage: the noise info must have one entry per pair');
  }
}

/**
 * The noise info of a split view: the entries of its pairs, clean images renumbered by `toLocal`
 * (−1 where the clean image is outside the split).
 *
 * @param pairs the split's pair indices in the parent
 * @param toLocal parent image index → view image index, −1 outside the view
 */
export function restrictNoise(noise: PairNoiseInfo, pairs: Int32Array, toLocal: Int32Array): PairNoiseInfo {
  const clean = pairs.map((j) => {
    const c = noise.cleanCaptionToImage[j]!;
    return c < 0 ? -1 : toLocal[c]!;
  });
  return {
    ...noise,
    noisy: Uint8Array.from(pairs, (j) => noise.noisy[j]!),
    cleanCaptionToImage: clean,
    ...(noise.noiseType ? { noiseType: Uint8Array.from(pairs, (j) => noise.noiseType![j]!) } : {}),
  };
}

/** The noise part of a dataset summary: protocol, kind, requested and realised rate. */
export function summariseNoise(
  noise: PairNoiseInfo,
  numPairs: number,
): { protocol: string; kind: string; rate: number | null; realisedRate: number } {
  let noisy = 0;
  for (const v of noise.noisy) noisy += v;
  return {
    protocol: noise.protocol,
    kind: noise.kind,
    rate: noise.rate,
    realisedRate: numPairs ? noisy / numPairs : 0,
  };
}
