/**
 * The reference training step of issue 2, on whatever tfjs backend is active: image head Linear
 * 2048→1024 and text head Linear 768→1024, both L2-normalised; loss = mean over the in-batch similarity
 * matrix S = u·vᵀ of relu(0.2 + S − diag(S)) (row-wise, positives on the diagonal); Adam lr 1e-3 by
 * default; seeded random inputs. Used by the `backend` benchmark and by the backend tests (at small sizes).
 *
 * @example
 * ```ts
 * const step = makeReferenceStep({ batch: 128, optimizer: createOptimizer({ kind: 'adam' }) });
 * const loss = step.run();
 * step.dispose();
 * ```
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from 'cleave';

export interface ReferenceStepOptions {
  batch: number;
  optimizer: tf.Optimizer;
  imageDim?: number;
  textDim?: number;
  embedDim?: number;
  margin?: number;
  seed?: number;
}

export interface ReferenceStep {
  /** One optimisation step; returns the loss before the update. */
  run(): number;
  /** The trainable variables (image W, b, text W, b). */
  variables: tf.Variable[];
  dispose(): void;
}

function randomTensor(rng: Rng, shape: number[], std: number): tf.Tensor {
  const values = rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)), 0, std);
  return tf.tensor(values, shape, 'float32');
}

/** Build the step's variables and inputs (seeded) on the active backend. */
export function makeReferenceStep(options: ReferenceStepOptions): ReferenceStep {
  const {
    batch,
    optimizer,
    imageDim = 2048,
    textDim = 768,
    embedDim = 1024,
    margin = 0.2,
    seed = 7,
  } = options;
  const rng = new Rng(seed);
  const id = `${seed}-${Math.floor(rng.float() * 1e9)}`;
  const init = (rows: number) => 1 / Math.sqrt(rows);
  const wi = tf.variable(randomTensor(rng, [imageDim, embedDim], init(imageDim)), true, `ref-wi-${id}`);
  const bi = tf.variable(tf.zeros([embedDim]), true, `ref-bi-${id}`);
  const wt = tf.variable(randomTensor(rng, [textDim, embedDim], init(textDim)), true, `ref-wt-${id}`);
  const bt = tf.variable(tf.zeros([embedDim]), true, `ref-bt-${id}`);
  const x = randomTensor(rng, [batch, imageDim], 1);
  const y = randomTensor(rng, [batch, textDim], 1);
  const variables = [wi, bi, wt, bt];
  const l2 = (t: tf.Tensor) => tf.mul(t, tf.rsqrt(tf.sum(tf.square(t), 1, true)));
  const loss = (): tf.Scalar => {
    const u = l2(tf.add(tf.matMul(x, wi), bi));
    const v = l2(tf.add(tf.matMul(y, wt), bt));
    const s = tf.matMul(u, v, false, true);
    const positives = tf.sum(tf.mul(u, v), 1, true);
    return tf.mean(tf.relu(tf.add(tf.sub(s, positives), margin)));
  };
  return {
    variables,
    run() {
      const cost = optimizer.minimize(loss, true, variables)!;
      const value = cost.dataSync()[0]!;
      cost.dispose();
      return value;
    },
    dispose() {
      tf.dispose([...variables, x, y]);
    },
  };
}
