/**
 * Makes sure tfjs-core's gradient functions are registered, so `tf.grad`, `tf.variableGrads` and
 * `optimizer.minimize` work with `@tensorflow/tfjs-core` alone.
 *
 * Why this exists: the union package `@tensorflow/tfjs` (and tfjs-node, which depends on it) registers
 * the gradients of every kernel; `@tensorflow/tfjs-core`'s Node bundle does not, and the module that
 * does (`dist/register_all_gradients.js`) is shipped only as ES-module sources with extensionless
 * relative imports, which Node's ESM loader cannot resolve. This module installs a narrow
 * module-resolution hook (`node:module` `register`) that only touches imports made *from inside*
 * `@tensorflow/tfjs-core/dist/` — it adds the `.js` (or `/index.js`) those imports omit and loads them
 * as ES modules — then imports `register_all_gradients.js` once. tfjs keeps its engine and its
 * kernel/gradient registries on the global object, so the gradients land in the same registry the
 * main bundle uses, for every backend. When gradients are already registered (tfjs-node or the union
 * package was loaded first), nothing happens.
 *
 * Importing this module (the model and losses do) is enough; {@link ensureGradients} is exported for
 * code that wants to await it explicitly.
 *
 * @example
 * ```ts
 * import { ensureGradients } from 'cleave/model';
 * await ensureGradients();
 * const g = tf.grad((x) => tf.sum(tf.square(x)))(tf.tensor1d([1, 2]));   // [2, 4]
 * ```
 */
import { register } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from './errors.js';

const RESOLVE_HOOK = `
const DIST = '/@tensorflow/tfjs-core/dist/';
const BUNDLE = /\\/tf-core[^/]*\\.js$/;
export async function resolve(specifier, context, next) {
  const parent = context.parentURL ?? '';
  if (parent.includes(DIST) && specifier.startsWith('.') && !/\\.m?js$/.test(specifier)) {
    let resolved;
    try {
      resolved = await next(specifier + '.js', context);
    } catch {
      resolved = await next(specifier + '/index.js', context);
    }
    return { ...resolved, format: 'module' };
  }
  const resolved = await next(specifier, context);
  if (resolved.url.includes(DIST) && !BUNDLE.test(resolved.url) && resolved.url.endsWith('.js')) {
    return { ...resolved, format: 'module' };
  }
  return resolved;
}
`;

let pending: Promise<void> | undefined;

/** Whether the gradient of `Add` (and so, in practice, of every tfjs-core kernel) is registered. */
export function gradientsRegistered(): boolean {
  return tf.getGradient('Add') !== undefined;
}

/** Register tfjs-core's gradients once (no-op when they already are). See the module documentation. */
export function ensureGradients(): Promise<void> {
  pending ??= (async () => {
    if (gradientsRegistered()) return;
    register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOK)}`);
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    if (!gradientsRegistered()) {
      throw new BackendError(
        'could not register the tfjs-core gradients (tf.getGradient("Add") is missing): install one copy of @tensorflow/tfjs-core 4.22.0 (npm ls @tensorflow/tfjs-core)',
      );
    }
  })();
  return pending;
}

await ensureGradients();
