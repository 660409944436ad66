import {
  BetaMixture,
  bundledDataset,
  evaluateRetrieval,
  initBackend,
  injectNoise,
  loadPairs,
  splitQuality,
  Trainer,
} from 'cleave';

await initBackend(); // webgpu → tensorflow → cpu-blas → wasm → cpu, the first that works
const data = await loadPairs(bundledDataset('wikipedia-xmodal')); // features, labels, train/val/test
const noisy = injectNoise(data, { rate: 0.5, kind: 'shuffle', seed: 0 }).dataset; // 50 % shuffled captions

// warm-up → per-pair losses → beta mixture → soft labels P(clean) → retrain with uncertainty heads
const trainer = new Trainer({
  method: 'refurb',
  epochs: 20,
  model: { embedDim: 64, image: { inputPower: 0.5 }, text: { inputPower: 0.5 } }, // sqrt for histograms
  seed: 0,
});
const { model, posterior } = await trainer.fit(noisy); // validates on data.val, keeps the best epoch

const test = await evaluateRetrieval(model, data.test); // recalls in %, rSum
const split = splitQuality(posterior!, noisy.train.noise!.noisy); // against the truth mask
console.log(
  `test rSum ${test.rsum.toFixed(1)}, i2t R@1 ${test.i2t.r1.toFixed(1)} %, split AUC ${split.auc.toFixed(3)}`,
);

// The mixture alone, on any per-sample losses in [0, 1] (no tfjs needed):
const bmm = new BetaMixture().fit([0.05, 0.1, 0.12, 0.2, 0.15, 0.8, 0.85, 0.9, 0.7, 0.95, 0.08, 0.88]);
console.log(
  'P(clean) of a loss of 0.1 and of 0.9:',
  Array.from(bmm.monotonePosterior([0.1, 0.9]), (p) => p.toFixed(3)),
);
