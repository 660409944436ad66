/**
 * Calling the run's observers: each {@link TrainerCallback} hook, in the order the callbacks were
 * given, awaited one after the other, each with a fresh read-only view of the run.
 *
 * @example
 * ```ts
 * await emitHook(callbacks, () => context, 'onEpochEnd', record);
 * ```
 */
import type { TrainerCallback, TrainerContext } from './types.js';

/** The arguments of hook `K` after the context. */
export type HookArgs<K extends keyof TrainerCallback> = Parameters<NonNullable<TrainerCallback[K]>> extends [
  TrainerContext,
  ...infer R,
]
  ? R
  : never;

/**
 * Call `hook` on every callback that has it, with `context()` and `args`.
 *
 * @example
 * ```ts
 * await emitHook([{ onFitStart: (ctx) => console.log(ctx.config.method) }], () => ctx, 'onFitStart');
 * ```
 */
export async function emitHook<K extends keyof TrainerCallback>(
  callbacks: readonly TrainerCallback[],
  context: () => TrainerContext,
  hook: K,
  ...args: HookArgs<K>
): Promise<void> {
  for (const cb of callbacks) {
    const fn = cb[hook] as ((ctx: TrainerContext, ...a: unknown[]) => void | Promise<void>) | undefined;
    if (fn) await fn.call(cb, context(), ...args);
  }
}
