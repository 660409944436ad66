/**
 * Registers tfjs-core's gradient functions, without which `tf.grad`, `tf.variableGrads` and
 * `optimizer.minimize` fail ("gradient function not found for …") when only `@tensorflow/tfjs-core`
 * is installed: its Node bundle (`tf-core.node.js`) leaves them out, and the module that registers
 * them, `dist/register_all_gradients.js`, exists only as ES-module sources whose relative imports have
 * no file extension — which Node's ES-module resolver rejects.
 *
 * {@link ensureGradients} adds a resolve hook (`node:module` `register`) that applies only to imports
 * made from files inside `@tensorflow/tfjs-core/dist/` (it appends `.js`, or `/index.js` for a folder),
 * then imports that module once. tfjs keeps its engine and registries on `globalThis`, so the gradients
 * land where the main bundle (and every backend) looks. `initBackend` calls it.
 *
 * @example
 * ```ts
 * await ensureGradients();
 * tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, 2])).print();   // [2, 4]
 * ```
 */
import { register } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

// The hook runs on Node's loader thread, so it is plain JavaScript source.
const HOOK = `
const inCore = (url) => typeof url === 'string' && url.includes('/@tensorflow/tfjs-core/dist/');
export async function resolve(specifier, context, nextResolve) {
  if (!inCore(context.parentURL) || !specifier.startsWith('.') || /\\.[cm]?js$/.test(specifier)) {
    const r = await nextResolve(specifier, context);
    // the ESM sources of tfjs-core are .js files in a CommonJS package: load them as ES modules
    if (inCore(r.url) && !/\\/tf-core[^/]*\\.js$/.test(r.url)) return { ...r, format: 'module' };
    return r;
  }
  for (const suffix of ['.js', '/index.js']) {
    try {
      const r = await nextResolve(specifier + suffix, context);
      return { ...r, format: 'module' };
    } catch {}
  }
  return nextResolve(specifier, context);
}
`;

let done: Promise<void> | undefined;

/**
 * Whether tfjs-core's gradients are registered (checked on the `Add` kernel).
 *
 * @example
 * ```ts
 * if (!gradientsRegistered()) await ensureGradients();
 * ```
 */
export function gradientsRegistered(): boolean {
  return tf.getGradient(tf.Add) !== undefined;
}

/**
 * Make sure tfjs-core's gradients are registered (once; a no-op when tfjs-node or the union package
 * already did it).
 *
 * @throws Error when the gradients still are not registered afterwards
 * @example
 * ```ts
 * await ensureGradients();
 * const dx = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, 2]));   // [2, 4]
 * ```
 */
export function ensureGradients(): Promise<void> {
  done ??= (async () => {
    if (gradientsRegistered()) return;
    register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    if (!gradientsRegistered()) throw new Error('cleave: tfjs-core gradients could not be registered');
  })();
  return done;
}
