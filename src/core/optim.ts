/**
 * Optimizers for cleave's trainer: one factory, {@link createOptimizer}, returning a tfjs `Optimizer`.
 *
 * `adam` is a fused Adam (optionally AdamW-style decoupled weight decay) that gives the same float32
 * numbers as `tf.train.adam` (same order of operations, same bias correction), but updates each
 * variable in one pass instead of ~12 tensor ops:
 * - on `cpu-blas`: one native loop per variable (the BLAS addon);
 * - on `cpu`: one JavaScript loop per variable;
 * - on any other backend (wasm, webgpu, tensorflow): tfjs ops in tf.train.adam's order.
 *
 * The moments are updated in place; a parameter gets a fresh buffer each step (arrays previously read
 * with `dataSync()` keep their old values, as with `tf.train.adam`).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { createOptimizer } from 'cleave/model';
 * const w = tf.variable(tf.randomNormal([4, 2]));
 * const opt = createOptimizer({ kind: 'adam', learningRate: 1e-3 });
 * opt.minimize(() => tf.sum(tf.square(w)) as tf.Scalar);
 * ```
 */
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { allocOutput, CPU_BLAS, CpuBlasBackend, f32Values } from './backend/cpu-blas.js';
import { type BlasAddon, loadBlasAddon } from './backend/native.js';
import { BackendError, ConfigError, parseOrThrow } from './errors.js';

/** Options of the Adam optimizer. */
export const adamOptionsSchema = z.object({
  kind: z.literal('adam'),
  /** Step size (default 1e-3). */
  learningRate: z.number().positive().default(1e-3),
  /** Decay of the first moment (default 0.9). */
  beta1: z.number().min(0).lt(1).default(0.9),
  /** Decay of the second moment (default 0.999). */
  beta2: z.number().min(0).lt(1).default(0.999),
  /** Added to √v̂; default: the backend's epsilon (1e-7 in float32), exactly as `tf.train.adam`. */
  epsilon: z.number().positive().optional(),
  /** Decoupled weight decay (AdamW): p -= learningRate·weightDecay·p each step; 0 (default) is Adam. */
  weightDecay: z.number().min(0).default(0),
  /**
   * `auto` (default): native on cpu-blas, a JS loop on cpu, tfjs ops elsewhere. `native`, `js` and
   * `tf` force one path (`native` throws on a backend other than cpu-blas; `js` needs a cpu-family backend).
   */
  implementation: z.enum(['auto', 'native', 'js', 'tf']).default('auto'),
});

/** Options of {@link createOptimizer} (one schema per optimizer kind). */
export const optimizerOptionsSchema = z.discriminatedUnion('kind', [adamOptionsSchema]);
/** What callers pass to {@link createOptimizer}. */
export type OptimizerOptions = z.input<typeof optimizerOptionsSchema>;
/** Adam's options after defaults. */
export type AdamOptions = z.output<typeof adamOptionsSchema>;

/** A tensor with its name (tfjs's `NamedTensor`, not exported by tfjs-core's root). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

interface Moments {
  m: tf.Variable;
  v: tf.Variable;
}

const f32 = Math.fround;

/**
 * A fused Adam/AdamW optimizer; build it with {@link createOptimizer}. It is a tfjs `Optimizer`:
 * `minimize`, `applyGradients`, `getWeights`/`setWeights` (same layout as tf.train.adam: iterations,
 * then every `<name>/m`, then every `<name>/v`) and `dispose` work as usual.
 *
 * @example
 * ```ts
 * const opt = createOptimizer({ kind: 'adam' });          // a FusedAdam
 * const state = await opt.getWeights();                    // save …
 * await createOptimizer({ kind: 'adam' }).setWeights(state);   // … and resume
 * ```
 */
export class FusedAdam extends tf.Optimizer {
  /** @nocollapse */
  static get className(): string {
    return 'CleaveAdam';
  }

  readonly options: AdamOptions;
  private readonly epsilon: number;
  private readonly moments = new Map<string, Moments>();
  // beta^t as float32, updated as tfjs does: accBeta ← accBeta·beta in float32, starting at beta
  private accBeta1: number;
  private accBeta2: number;

  constructor(options: AdamOptions) {
    super();
    this.options = options;
    this.epsilon = options.epsilon ?? tf.backend().epsilon();
    this.accBeta1 = f32(options.beta1);
    this.accBeta2 = f32(options.beta2);
  }

  /** Apply one Adam step with the given gradients (by variable name). */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries: [string, tf.Tensor | undefined][] = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor])
      : Object.entries(variableGradients);
    const c1 = f32(1 - this.accBeta1);
    const c2 = f32(1 - this.accBeta2);
    for (const [name, gradient] of entries) {
      const value = tf.engine().registeredVariables[name];
      if (!value) {
        throw new ConfigError(
          `FusedAdam: no variable named '${name}' (disposed?): pass gradients only for the model's live variables`,
        );
      }
      const moments = this.momentsOf(name, value);
      if (gradient == null) continue;
      this.update(value, moments, gradient, c1, c2);
    }
    this.accBeta1 = f32(this.accBeta1 * f32(this.options.beta1));
    this.accBeta2 = f32(this.accBeta2 * f32(this.options.beta2));
    this.incrementIterations();
  }

  private momentsOf(name: string, value: tf.Variable): Moments {
    let moments = this.moments.get(name);
    if (!moments) {
      moments = tf.tidy(() => ({
        m: tf.zerosLike(value).variable(false, `${name}/m/${FusedAdam.nextId++}`),
        v: tf.zerosLike(value).variable(false, `${name}/v/${FusedAdam.nextId++}`),
      }));
      this.moments.set(name, moments);
    }
    return moments;
  }

  private static nextId = 0;

  private path(tensors: tf.Tensor[]): 'native' | 'js' | 'tf' {
    const want = this.options.implementation;
    if (want === 'tf') return 'tf';
    const backend = tf.backend();
    const cpuFamily =
      backend instanceof MathBackendCPU &&
      tensors.every((t) => t.dtype === 'float32' && backend.data.has(t.dataId));
    const native = cpuFamily && tf.getBackend() === CPU_BLAS && loadBlasAddon().ok;
    const forced = {
      native: [native, 'the cpu-blas backend'],
      js: [cpuFamily, 'a cpu-family backend'],
    } as const;
    if (want !== 'auto') {
      const [possible, needs] = forced[want];
      if (!possible) {
        throw new BackendError(
          `FusedAdam: implementation '${want}' needs ${needs} (current: ${tf.getBackend()}); use implementation 'auto'`,
        );
      }
      return want;
    }
    return native ? 'native' : cpuFamily ? 'js' : 'tf';
  }

  private update(value: tf.Variable, { m, v }: Moments, gradient: tf.Tensor, c1: number, c2: number): void {
    const { learningRate, beta1, beta2, weightDecay } = this.options;
    const path = this.path([value, m, v, gradient]);
    if (path === 'tf') {
      this.updateWithOps(value, m, v, gradient, c1, c2);
      return;
    }
    const backend = tf.backend() as MathBackendCPU;
    const p = f32Values(backend, value);
    const out = allocOutput(backend, p.length);
    const mv = f32Values(backend, m);
    const vv = f32Values(backend, v);
    const g = f32Values(backend, gradient);
    if (path === 'native') {
      const blas = loadBlasAddon();
      if (!blas.ok) throw new BackendError(`FusedAdam: ${blas.reason}; ${blas.fix}`);
      blas.addon.adam(p, out, mv, vv, g, learningRate, beta1, beta2, c1, c2, this.epsilon, weightDecay);
    } else {
      adamLoop(p, out, mv, vv, g, learningRate, beta1, beta2, c1, c2, this.epsilon, weightDecay);
    }
    // the moments are ours: updated in place. The parameter gets the fresh buffer: swapped in when no
    // other tensor shares its data, else assigned as a new tensor (never mutate data others can see).
    if (backend.refCount(value.dataId) === 1) {
      if (backend instanceof CpuBlasBackend) backend.replaceValues(value.dataId, out);
      else backend.data.get(value.dataId).values = out;
    } else {
      const next = tf.tensor(out, value.shape, 'float32');
      value.assign(next);
      next.dispose();
    }
  }

  private updateWithOps(
    value: tf.Variable,
    m: tf.Variable,
    v: tf.Variable,
    gradient: tf.Tensor,
    c1: number,
    c2: number,
  ): void {
    const { learningRate, beta1, beta2, weightDecay } = this.options;
    tf.tidy(() => {
      // the same ops in the same order as tf.train.adam (AdamOptimizer.applyGradients)
      const newM = tf.add(tf.mul(m, beta1), tf.mul(gradient, 1 - beta1));
      const newV = tf.add(tf.mul(v, beta2), tf.mul(tf.square(gradient), 1 - beta2));
      const mHat = tf.div(newM, tf.scalar(c1));
      const vHat = tf.div(newV, tf.scalar(c2));
      m.assign(newM);
      v.assign(newV);
      let next = tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon)), -learningRate), value);
      if (weightDecay !== 0) next = tf.sub(next, tf.mul(value, learningRate * weightDecay));
      value.assign(next);
    });
  }

  override dispose(): void {
    for (const { m, v } of this.moments.values()) {
      m.dispose();
      v.dispose();
    }
    this.moments.clear();
    super.dispose();
  }

  /** Change the step size from the next step on (the moments are kept). */
  setLearningRate(learningRate: number): void {
    if (!(learningRate > 0) || !Number.isFinite(learningRate)) {
      throw new RangeError(`FusedAdam.setLearningRate: expected a positive number, got ${learningRate}`);
    }
    (this.options as { learningRate: number }).learningRate = learningRate;
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const all = [...this.moments.entries()];
    return [
      await this.saveIterations(),
      ...all.map(([name, { m }]) => ({ name: `${name}/m`, tensor: m })),
      ...all.map(([name, { v }]) => ({ name: `${name}/v`, tensor: v })),
    ];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    // replay the float32 recurrence of applyGradients (not beta ** t, which can differ in the last
    // bit), so a resumed run continues bit-for-bit
    const b1 = f32(this.options.beta1);
    const b2 = f32(this.options.beta2);
    this.accBeta1 = b1;
    this.accBeta2 = b2;
    for (let t = 0; t < this.iterations; t++) {
      this.accBeta1 = f32(this.accBeta1 * b1);
      this.accBeta2 = f32(this.accBeta2 * b2);
    }
    const half = rest.length / 2;
    for (const { m, v } of this.moments.values()) {
      m.dispose();
      v.dispose();
    }
    this.moments.clear();
    for (let i = 0; i < half; i++) {
      const mEntry = rest[i]!;
      const vEntry = rest[half + i]!;
      const name = mEntry.name.replace(/\/m$/, '');
      this.moments.set(name, {
        m: mEntry.tensor.variable(false, `${name}/m/${FusedAdam.nextId++}`),
        v: vEntry.tensor.variable(false, `${name}/v/${FusedAdam.nextId++}`),
      });
    }
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { learningRate, beta1, beta2, weightDecay } = this.options;
    return { learningRate, beta1, beta2, epsilon: this.epsilon, weightDecay };
  }

  /** @nocollapse */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const options = parseOrThrow(adamOptionsSchema, { kind: 'adam', ...config }, 'CleaveAdam config');
    return new cls(options);
  }
}

/** Adam in one JS pass, float32 after every operation like tfjs's op-by-op update (same contract as the native one). */
const adamLoop: BlasAddon['adam'] = (
  p,
  out,
  m,
  v,
  g,
  learningRate,
  beta1,
  beta2,
  c1,
  c2,
  epsilon,
  weightDecay,
) => {
  const b1 = f32(beta1);
  const ob1 = f32(1 - beta1);
  const b2 = f32(beta2);
  const ob2 = f32(1 - beta2);
  const eps = f32(epsilon);
  const nlr = f32(-learningRate);
  const decay = f32(learningRate * weightDecay);
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]!;
    const mi = f32(f32(b1 * m[i]!) + f32(ob1 * gi));
    const vi = f32(f32(b2 * v[i]!) + f32(ob2 * f32(gi * gi)));
    m[i] = mi;
    v[i] = vi;
    const step = f32(f32(f32(mi / c1) / f32(f32(Math.sqrt(f32(vi / c2))) + eps)) * nlr);
    const pi = p[i]!;
    out[i] = decay === 0 ? step + pi : f32(step + pi) - f32(decay * pi);
  }
};

/**
 * Make an optimizer for cleave's trainer from a plain options object (validated; defaults applied).
 * Works with any list of variables and on any backend.
 *
 * @param options `{ kind: 'adam', learningRate?, beta1?, beta2?, epsilon?, weightDecay?, implementation? }`
 * @returns a tfjs `Optimizer`
 * @throws ConfigError when the options do not validate
 *
 * @example
 * ```ts
 * const opt = createOptimizer({ kind: 'adam', learningRate: 2e-4, weightDecay: 1e-4 });
 * const { grads } = tf.variableGrads(loss);
 * opt.applyGradients(grads);
 * ```
 */
export function createOptimizer(options: OptimizerOptions): tf.Optimizer {
  const parsed = parseOrThrow(optimizerOptionsSchema, options, 'optimizer options');
  switch (parsed.kind) {
    case 'adam':
      return new FusedAdam(parsed);
  }
}
