/**
 * One measured run of the `trainer` benchmark, in its own process (so its peak RSS is its own):
 * `tsx experiments/bench/_trainer-child.ts '<json>'` with `{ data, out, method, epochs, warmupEpochs,
 * noiseRate, cacheDir, backend }`. Runs `trainAndReport` on the `*_precomp` folder and prints one JSON
 * line: per-epoch seconds and phases, the report's timing, the time outside the epochs, peak RSS.
 * With `{ data, cacheDir, poolOnly: true }` it only loads the folder, which pools the region files
 * into the cache, and prints `{ poolSeconds, peakRssMB }`.
 */
import { initBackend, setLogLevel, type TrainerCallback, trainAndReport } from 'cleave';
import { loadPrecomp } from 'cleave/io';

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
  poolOnly?: boolean;
}

const o = JSON.parse(process.argv[2]!) as ChildOptions;
setLogLevel('warn');
if (o.poolOnly) {
  const t0 = performance.now();
  await loadPrecomp(o.data, { cacheDir: o.cacheDir });
  const poolSeconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ poolSeconds, peakRssMB: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}
const started = performance.now();
await initBackend({ backend: (o.backend ?? 'cpu-blas') as 'cpu-blas' });
/** This process's CPU seconds so far (user + system): steadier than wall time on a shared machine. */
const cpuSeconds = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
const epochs: { epoch: number; phase: string; seconds: number; cpuSeconds: number; rss: number }[] = [];
const splitSeconds: number[] = [];
const splitCpuSeconds: number[] = [];
let splitStarted = 0;
let cpuStarted = 0;
const timer: TrainerCallback = {
  onEpochEnd(_ctx, record) {
    epochs.push({
      epoch: record.epoch,
      phase: record.phase,
      seconds: record.seconds,
      cpuSeconds: cpuSeconds() - cpuStarted,
      rss: process.memoryUsage().rss,
    });
  },
  onEpochStart() {
    splitStarted = performance.now();
    cpuStarted = cpuSeconds();
  },
  onSplit() {
    splitSeconds.push((performance.now() - splitStarted) / 1000);
    splitCpuSeconds.push(cpuSeconds() - cpuStarted);
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
const totalCpu = cpuSeconds();
const inEpochsCpu = epochs.reduce((s, e) => s + e.cpuSeconds, 0);
console.log(
  JSON.stringify({
    method: o.method,
    epochs,
    splitSeconds,
    splitCpuSeconds,
    timing: report.timing,
    totalSeconds: total,
    outsideEpochsSeconds: total - inEpochs,
    totalCpuSeconds: totalCpu,
    outsideEpochsCpuSeconds: totalCpu - inEpochsCpu,
    testRsum: report.test.rsum,
    splitAuc: report.split?.auc ?? null,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
