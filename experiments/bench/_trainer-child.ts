/**
 * One measured run of the `trainer` benchmark, in its own process (so its peak RSS is its own):
 * `tsx experiments/bench/_trainer-child.ts '<json>'` with `{ data, out, method, epochs, warmupEpochs,
 * noiseRate, cacheDir, backend }`. Runs `trainAndReport` on the `*_precomp` folder and prints one JSON
 * line: per-epoch seconds and phases, the report's timing, the time outside the epochs, peak RSS.
 */
import { initBackend, setLogLevel, type TrainerCallback, trainAndReport } from 'cleave';

interface ChildOptions {
  data: string;
  out: string;
  method: 'vse' | 'refurb';
  epochs: number;
  warmupEpochs: number;
  noiseRate?: number;
  cacheDir: string;
  backend?: string;
  config?: Record<string, unknown>;
}

const o = JSON.parse(process.argv[2]!) as ChildOptions;
setLogLevel('warn');
const started = performance.now();
await initBackend({ backend: (o.backend ?? 'cpu-blas') as 'cpu-blas' });
const epochs: { epoch: number; phase: string; seconds: number; rss: number }[] = [];
const splitSeconds: number[] = [];
let splitStarted = 0;
const timer: TrainerCallback = {
  onEpochEnd(_ctx, record) {
    epochs.push({
      epoch: record.epoch,
      phase: record.phase,
      seconds: record.seconds,
      rss: process.memoryUsage().rss,
    });
  },
  onEpochStart() {
    splitStarted = performance.now();
  },
  onSplit() {
    splitSeconds.push((performance.now() - splitStarted) / 1000);
  },
};
const { report } = await trainAndReport({
  data: o.data,
  outDir: o.out,
  method: o.method,
  seed: 0,
  config: {
    epochs: o.epochs,
    warmupEpochs: o.warmupEpochs,
    ...(o.config ?? {}),
  },
  ...(o.noiseRate ? { noise: { rate: o.noiseRate, kind: 'shuffle' as const } } : {}),
  precomp: { cacheDir: o.cacheDir },
  callbacks: [timer],
  plots: false,
});
const total = (performance.now() - started) / 1000;
const inEpochs = epochs.reduce((s, e) => s + e.seconds, 0);
console.log(
  JSON.stringify({
    method: o.method,
    epochs,
    splitSeconds,
    timing: report.timing,
    totalSeconds: total,
    outsideEpochsSeconds: total - inEpochs,
    testRsum: report.test.rsum,
    splitAuc: report.split?.auc ?? null,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
