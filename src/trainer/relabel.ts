/**
 * The relabel step as pure functions: P(clean) per pair (the split's posterior) → the pairs to train on
 * and their targets y ∈ [0, 1]. No tensors, no trainer: each rule is a few lines over plain arrays, so it
 * is tested on its own (`test/trainer/relabel.test.ts`).
 *
 * | rule (`relabel.rule`) | target of pair j | pairs trained on |
 * |---|---|---|
 * | `soft` | y = P(clean) | P(clean) ≥ `floor` |
 * | `hard` | y = 1 if P(clean) > `threshold`, else 0 | P(clean) ≥ `floor` |
 * | `ncr` | clean side (P > `threshold`): w + (1 − w)·p_model; noisy side: p_model | P ≥ `floor`; the noisy side only once {@link ncrNoisyEnters} |
 *
 * @example
 * ```ts
 * const r = relabelTargets(Float64Array.from([0.9, 0.2]), { rule: 'hard', threshold: 0.5, floor: 0, noisyLate: true }, { epoch: 3, epochs: 10 });
 * Array.from(r.targets);   // [1, 0]
 * ```
 */
import { ConfigError } from '../core/errors.js';
import type { TrainerConfig } from './config.js';
import type { Relabelled } from './types.js';

/** The relabel options of the trainer config (`config.relabel`). */
export type RelabelOptions = TrainerConfig['relabel'];

/**
 * `soft`: every pair with P(clean) ≥ `floor`, target y = P(clean).
 *
 * @example
 * ```ts
 * softTargets(Float64Array.from([0.9, 0.05]), { floor: 0.1 });   // pairs [0], targets [0.9]
 * ```
 */
export function softTargets(posterior: ArrayLike<number>, options: { floor: number }): Relabelled {
  const pairs: number[] = [];
  const targets: number[] = [];
  for (let j = 0; j < posterior.length; j++) {
    if (posterior[j]! < options.floor) continue;
    pairs.push(j);
    targets.push(posterior[j]!);
  }
  return { pairs: Int32Array.from(pairs), targets: Float32Array.from(targets) };
}

/**
 * `hard`: every pair with P(clean) ≥ `floor`, target 1 when P(clean) > `threshold`, else 0.
 *
 * @example
 * ```ts
 * hardTargets(Float64Array.from([0.9, 0.2]), { threshold: 0.5, floor: 0 });   // targets [1, 0]
 * ```
 */
export function hardTargets(
  posterior: ArrayLike<number>,
  options: { threshold: number; floor: number },
): Relabelled {
  const pairs: number[] = [];
  const targets: number[] = [];
  for (let j = 0; j < posterior.length; j++) {
    if (posterior[j]! < options.floor) continue;
    pairs.push(j);
    targets.push(posterior[j]! > options.threshold ? 1 : 0);
  }
  return { pairs: Int32Array.from(pairs), targets: Float32Array.from(targets) };
}

/**
 * `ncr` (NCR's refurbishment): pairs with P(clean) = w > `threshold` get y = w + (1 − w)·p_model,
 * the others y = p_model, where p_model = `evidence[j]` is the model's own match evidence in [0, 1];
 * the noisy side enters only when `noisyEnters` (see {@link ncrNoisyEnters}); pairs below `floor`
 * are dropped.
 *
 * @example
 * ```ts
 * ncrTargets(Float64Array.from([0.8, 0.2]), Float64Array.from([0.5, 0.5]), { threshold: 0.5, floor: 0, noisyEnters: true });
 * // pairs [0, 1], targets [0.9, 0.5]
 * ```
 */
export function ncrTargets(
  posterior: ArrayLike<number>,
  evidence: ArrayLike<number>,
  options: { threshold: number; floor: number; noisyEnters: boolean },
): Relabelled {
  const pairs: number[] = [];
  const targets: number[] = [];
  for (let j = 0; j < posterior.length; j++) {
    const w = posterior[j]!;
    if (w < options.floor) continue;
    if (w > options.threshold) {
      pairs.push(j);
      targets.push(w + (1 - w) * evidence[j]!);
    } else if (options.noisyEnters) {
      pairs.push(j);
      targets.push(evidence[j]!);
    }
  }
  return { pairs: Int32Array.from(pairs), targets: Float32Array.from(targets) };
}

/**
 * Whether the `ncr` rule trains the noisy side at `epoch` (0-based) of `epochs`: always unless
 * `noisyLate`, else from the second half of training on (epoch ≥ ⌊epochs / 2⌋).
 *
 * @example
 * ```ts
 * ncrNoisyEnters(4, 10, true);   // false
 * ncrNoisyEnters(5, 10, true);   // true
 * ```
 */
export function ncrNoisyEnters(epoch: number, epochs: number, noisyLate: boolean): boolean {
  return !noisyLate || epoch >= Math.floor(epochs / 2);
}

/**
 * The configured rule applied to one split: `evidence` (the model's match evidence per pair) is
 * needed by `ncr` only.
 * @throws ConfigError for `ncr` without `evidence`
 *
 * @example
 * ```ts
 * const rule = { rule: 'soft', threshold: 0.5, floor: 0.1, noisyLate: true } as const;
 * relabelTargets(Float64Array.from([0.9, 0.05]), rule, { epoch: 3, epochs: 10 });   // pairs [0]
 * ```
 */
export function relabelTargets(
  posterior: ArrayLike<number>,
  options: RelabelOptions,
  at: { epoch: number; epochs: number; evidence?: ArrayLike<number> },
): Relabelled {
  if (options.rule === 'ncr') {
    if (!at.evidence) {
      throw new ConfigError("relabel.rule 'ncr' needs the model's match evidence per pair: pass `evidence`", [
        { path: 'relabel.rule', message: 'ncr needs evidence' },
      ]);
    }
    return ncrTargets(posterior, at.evidence, {
      threshold: options.threshold,
      floor: options.floor,
      noisyEnters: ncrNoisyEnters(at.epoch, at.epochs, options.noisyLate),
    });
  }
  return options.rule === 'hard' ? hardTargets(posterior, options) : softTargets(posterior, options);
}

/**
 * The targets of every one of `numPairs` pairs (0 for the pairs the relabel step dropped).
 *
 * @example
 * ```ts
 * denseTargets({ pairs: Int32Array.from([2]), targets: Float32Array.from([0.5]) }, 3);   // [0, 0, 0.5]
 * ```
 */
export function denseTargets(relabelled: Relabelled, numPairs: number): Float32Array {
  const out = new Float32Array(numPairs);
  relabelled.pairs.forEach((j, k) => {
    out[j] = relabelled.targets[k]!;
  });
  return out;
}

/**
 * Whether the split is frozen at `epoch`: `freezeAfter` > 0 epochs after the warm-up (of
 * `warmupLength` epochs) have passed; from then on the last losses and their P(clean) are reused.
 *
 * @example
 * ```ts
 * splitFrozen(11, 10, 2);   // false
 * splitFrozen(12, 10, 2);   // true
 * splitFrozen(99, 10, 0);   // false: 0 never freezes
 * ```
 */
export function splitFrozen(epoch: number, warmupLength: number, freezeAfter: number): boolean {
  return freezeAfter > 0 && epoch >= warmupLength + freezeAfter;
}
