/**
 * Named weights of a model and their seeded initialisation.
 *
 * Every weight has a logical name (`image/mean/dense_0/kernel`) under which it is saved in
 * `model.json`; the `tf.Variable` behind it gets a name that is unique in the tfjs engine
 * (`cleave_3/image/mean/dense_0/kernel`), so that several models can live side by side.
 * Initial values are generated in JavaScript from an {@link Rng} forked by the weight's name, so they
 * are the same on every backend and do not change when another weight is added.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { Rng } from 'cleave';
 * import { glorotUniform, ParamStore } from 'cleave/model';
 * const store = new ParamStore(new Rng(7));
 * const w = store.add('dense/kernel', [4, 3], (rng) => glorotUniform(rng, 4, 3));
 * store.trainable().length;   // 1
 * store.dispose();
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError } from '../errors.js';
import type { Rng } from '../random.js';

let storeCounter = 0;

/**
 * Glorot (Xavier) uniform initial values for a `[fanIn, fanOut]` kernel:
 * U(−l, l) with l = √(6 / (fanIn + fanOut)).
 */
export function glorotUniform(rng: Rng, fanIn: number, fanOut: number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return rng.fillUniform(new Float32Array(fanIn * fanOut), -limit, limit);
}

/** He (Kaiming) uniform initial values for a `[fanIn, fanOut]` kernel: U(−l, l) with l = √(6 / fanIn). */
export function heUniform(rng: Rng, fanIn: number, fanOut: number): Float32Array {
  const limit = Math.sqrt(6 / fanIn);
  return rng.fillUniform(new Float32Array(fanIn * fanOut), -limit, limit);
}

/** A Float32Array of `n` copies of `value`. */
export function constantValues(n: number, value: number): Float32Array {
  return new Float32Array(n).fill(value);
}

/** An owned, ordered set of named `tf.Variable`s with seeded initial values. */
export class ParamStore {
  private readonly variables = new Map<string, tf.Variable>();
  private readonly prefix: string;

  /** @param rng the root generator; each weight draws from `rng.fork(name)`. */
  constructor(private readonly rng: Rng) {
    storeCounter += 1;
    this.prefix = `cleave_${storeCounter}`;
  }

  /**
   * Create a float32 variable `name` of `shape` with the values `init(rng.fork(name))`.
   * @throws ConfigError when the name is taken; DataError when `init` returns the wrong number of values.
   */
  add(name: string, shape: number[], init: (rng: Rng) => Float32Array, trainable = true): tf.Variable {
    if (this.variables.has(name)) {
      throw new ConfigError(
        `ParamStore: weight ${name} already exists: give each layer/encoder built on one store its own name`,
      );
    }
    const values = init(this.rng.fork(name));
    const size = shape.reduce((a, b) => a * b, 1);
    if (values.length !== size) {
      throw new DataError(
        `ParamStore: ${name} of shape [${shape.join(', ')}] needs ${size} initial values, init returned ${values.length}`,
        { field: name },
      );
    }
    const variable = tf.tidy(() =>
      tf.variable(tf.tensor(values, shape, 'float32'), trainable, this.varName(name)),
    );
    this.variables.set(name, variable);
    return variable;
  }

  /** The variable called `name`. @throws ConfigError when there is none. */
  get(name: string): tf.Variable {
    const v = this.variables.get(name);
    if (!v) {
      throw new ConfigError(
        `ParamStore: no weight called ${name}; the store holds: ${this.names().join(', ') || '(none)'}`,
      );
    }
    return v;
  }

  /** Logical names, in creation order. */
  names(): string[] {
    return [...this.variables.keys()];
  }

  /** The trainable variables, in creation order (what an optimizer's `varList` wants). */
  trainable(): tf.Variable[] {
    return [...this.variables.values()].filter((v) => v.trainable);
  }

  /** Every variable by logical name (the tensors themselves, not copies). */
  entries(): [string, tf.Variable][] {
    return [...this.variables.entries()];
  }

  /**
   * Assign new values to every weight. The map must hold exactly this store's names with matching
   * shapes; the tensors are copied, the caller keeps ownership of `values`.
   * @param source what to call the values in error messages (e.g. a file name)
   * @throws DataError naming the missing, unexpected or mis-shaped weights.
   */
  assign(values: tf.NamedTensorMap, source = 'weights'): void {
    const missing = this.names().filter((n) => !(n in values));
    const extra = Object.keys(values).filter((n) => !this.variables.has(n));
    if (missing.length > 0 || extra.length > 0) {
      const parts: string[] = [];
      if (missing.length > 0) parts.push(`missing weights ${missing.join(', ')}`);
      if (extra.length > 0) parts.push(`unexpected weights ${extra.join(', ')}`);
      throw new DataError(`${parts.join('; ')} (does the config match the weights?)`, { file: source });
    }
    for (const [name, variable] of this.variables) {
      const value = values[name]!;
      if (!tf.util.arraysEqual(value.shape, variable.shape)) {
        throw new DataError(
          `weight ${name} has shape [${value.shape.join(', ')}], the model expects [${variable.shape.join(', ')}]`,
          { file: source, field: name },
        );
      }
      if (value.dtype !== 'float32') {
        throw new DataError(`weight ${name} has dtype ${value.dtype}, expected float32`, {
          file: source,
          field: name,
        });
      }
    }
    for (const [name, variable] of this.variables) variable.assign(values[name]!);
  }

  /** Dispose every variable. The store is empty afterwards. */
  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }

  private varName(name: string): string {
    return `${this.prefix}/${name}`;
  }
}
