/**
 * The names of the mixtures a split can be fitted with, written once (the trainer config's `mixture`
 * adds `auto`).
 *
 * @example
 * ```ts
 * MIXTURE_KINDS;                        // ['beta', 'gaussian', 'local-fdr']
 * mixtureKindSchema.parse('beta');      // 'beta'
 * ```
 */
import { z } from 'zod';

/** `beta` (`BetaMixture`), `gaussian` (`GaussianMixture`), `local-fdr` (`LocalFdrSplit`). */
export const MIXTURE_KINDS = ['beta', 'gaussian', 'local-fdr'] as const;
/** One of {@link MIXTURE_KINDS}. */
export const mixtureKindSchema = z.enum(MIXTURE_KINDS);
/** @see mixtureKindSchema */
export type MixtureKind = z.output<typeof mixtureKindSchema>;
