/**
 * `npm run bench -- step [--json] [--batch 128] [--steps 40] [--backend cpu-blas]`
 *
 * Where a training step's time goes, on the default model at the F30K bench's widths (2048-d pooled
 * images, 768-d caption vectors, hidden 256, d = 128, dropout 0.5): one Adam step of
 *
 * - `vse`: the deterministic head with the InfoNCE loss (a `vse` epoch's step);
 * - `refurb`: the probabilistic head (the default uncertainty branch: one linear map of the mean head's
 *   hidden layer) with the PCME++ match loss of the closed-form logits and the VIB term (a `refurb`
 *   retrain step, `matchLossFromLogits` as the trainer calls it);
 * - `refurbFeaturesEncoder`: the same with `uncertainty.input: 'features'` (PCME++'s second encoder on
 *   the features, the default before 2026-12-02);
 * - `deterministicEncoders`, `probabilisticEncoders`: the two heads under a trivial loss (the mean of
 *   the embeddings' product), i.e. the encoders' forward and backward alone.
 *
 * Each row gives milliseconds per step (wall and process CPU) and tfjs kernels per step. The ratio
 * `probabilistic / deterministic encoders` is the share of a refurb step the uncertainty branch costs
 * before any loss; `refurb / vse` is what the trainer's epochs see per batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/core/backend/index.js';
import { infoNCELoss } from '../../src/core/losses/infonce.js';
import { matchLossFromLogits, vibLoss } from '../../src/core/losses/match.js';
import type { Embedding } from '../../src/core/model/distance.js';
import { CrossModalModel } from '../../src/core/model/model.js';
import { createOptimizer } from '../../src/core/optim.js';
import { Rng } from '../../src/core/random.js';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

type Loss = (model: CrossModalModel, img: Embedding, cap: Embedding, y: tf.Tensor1D) => tf.Scalar;

type Uncertainty = { input?: 'auto' | 'features' | 'hidden'; depth?: number };

/** The refurb retrain objective: the match loss of the closed-form logits plus 1e-4 · VIB. */
const retrainLoss: Loss = (m, img, cap, y) =>
  tf.add(
    matchLossFromLogits(m.matchLogits(img, cap), y),
    tf.mul(1e-4, tf.add(vibLoss(img), vibLoss(cap))),
  ) as tf.Scalar;

const LOSSES: Record<
  string,
  { head: 'deterministic' | 'probabilistic'; loss: Loss; uncertainty?: Uncertainty }
> = {
  vse: {
    head: 'deterministic',
    loss: (m, img, cap, y) => infoNCELoss(m.similarity(img, cap), y, m.logitScale()),
  },
  refurb: { head: 'probabilistic', loss: retrainLoss },
  refurbFeaturesEncoder: { head: 'probabilistic', uncertainty: { input: 'features' }, loss: retrainLoss },
  deterministicEncoders: { head: 'deterministic', loss: (_m, img, cap) => trivial(img, cap) },
  probabilisticEncoders: { head: 'probabilistic', loss: (_m, img, cap) => trivial(img, cap) },
};

/** A loss that touches every output once: the encoders' cost without a batch loss. */
function trivial(img: Embedding, cap: Embedding): tf.Scalar {
  const means = tf.mean(tf.mul(img.mean, cap.mean));
  if (!img.logSigma2 || !cap.logSigma2) return means as tf.Scalar;
  return tf.add(means, tf.mean(tf.mul(img.logSigma2, cap.logSigma2))) as tf.Scalar;
}

const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

export async function run(args: string[]): Promise<unknown> {
  const batch = Number(option(args, 'batch') ?? '128');
  const steps = Number(option(args, 'steps') ?? '40');
  const backend = await initBackend({ backend: (option(args, 'backend') ?? 'cpu-blas') as 'cpu-blas' });
  const rng = new Rng(1);
  const images = tf.tensor2d(rng.fillNormal(new Float32Array(batch * 2048)), [batch, 2048]);
  const captions = tf.tensor2d(rng.fillNormal(new Float32Array(batch * 768)), [batch, 768]);
  const targets = tf.ones([batch]) as tf.Tensor1D;
  const rows: Record<string, { wallMs: number; cpuMs: number; kernels: number }> = {};
  for (const [name, { head, loss, uncertainty }] of Object.entries(LOSSES)) {
    const model = new CrossModalModel({
      embedDim: 128,
      head,
      uncertainty: uncertainty ?? {},
      image: { inputDim: 2048, hidden: 256, dropout: 0.5, skip: false },
      text: { inputDim: 768, hidden: 256, dropout: 0.5, skip: false },
      seed: 1,
    });
    const optimizer = createOptimizer({ kind: 'adam', learningRate: 3e-4 });
    const step = (k: number) =>
      tf.tidy(() => {
        const r = new Rng(k);
        const cost = optimizer.minimize(
          () => {
            const img = model.embedImages(images, { training: true, rng: r.fork('img') });
            const cap = model.embedCaptions(captions, { training: true, rng: r.fork('cap') });
            return loss(model, img, cap, targets);
          },
          true,
          model.trainableVariables,
        ) as tf.Scalar;
        cost.dataSync();
      });
    for (let k = 0; k < 5; k++) step(k);
    const profile = await tf.profile(() => step(5));
    const c0 = cpuMs();
    const t0 = performance.now();
    for (let k = 0; k < steps; k++) step(k);
    rows[name] = {
      wallMs: Number(((performance.now() - t0) / steps).toFixed(1)),
      cpuMs: Number(((cpuMs() - c0) / steps).toFixed(1)),
      kernels: profile.kernels.length,
    };
    optimizer.dispose();
    model.dispose();
  }
  tf.dispose([images, captions, targets]);
  const ratio = (a: string, b: string) => Number((rows[a]!.cpuMs / rows[b]!.cpuMs).toFixed(2));
  return {
    suite: 'step',
    backend: backend.name,
    batch,
    steps,
    rows,
    ratios: {
      refurbVsVse: ratio('refurb', 'vse'),
      refurbFeaturesEncoderVsVse: ratio('refurbFeaturesEncoder', 'vse'),
      probabilisticVsDeterministicEncoders: ratio('probabilisticEncoders', 'deterministicEncoders'),
    },
    notes: {
      ratios: 'process CPU ms per step, same run',
      refurbVsVse: 'a refurb retrain step / a vse step: what the epochs see per batch',
      refurbFeaturesEncoderVsVse:
        "the same with uncertainty.input 'features' (PCME++'s second encoder on the features)",
      probabilisticVsDeterministicEncoders:
        'the encoders alone (trivial loss): what the default uncertainty branch adds to each encoder',
    },
  };
}
