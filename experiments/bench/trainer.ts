/**
 * `npm run bench -- trainer [--json] [--shape f30k] [--scale 0.1] [--regions 36] [--vse-epochs 2]
 *   [--refurb-epochs 3] [--noise 0.5] [--dir runs/bench-data] [--threads n] [--skip-torch] [--backend cpu-blas]
 *   [--refurb-config '{"model":{"uncertainty":{"input":"features"}}}']`
 *
 * Training speed at the field's real sizes, on a synthetic `*_precomp` set of the F30K shape (29,000
 * train images × 5 captions at `--scale 1`; `cleave bench-data` writes it, here into `--dir`, reused
 * when present): 36 × 2048 region features streamed and mean-pooled, 768-d caption vectors, the
 * default model. Each run is its own process (`_trainer-child.ts`), so its peak RSS is its own:
 *
 * - `vse`: `--vse-epochs` epochs, seconds per epoch (training + validation on dev);
 * - `refurb`: `--refurb-epochs` epochs with 1 warm-up epoch and `--noise` shuffled captions (and the
 *   trainer settings of `--refurb-config`, a JSON object, over the defaults); seconds of
 *   the warm-up and of each later epoch (score → mixture → relabel → retrain), the scoring part, and
 *   the time outside the epochs (load, noise, final evaluation, writing): the run's wall time minus
 *   its epochs;
 * - `pool`: before both runs, the first load of the folder, which streams the region file and writes
 *   its mean-pooled features into a fresh cache folder (a one-time cost of a new dataset, and its peak
 *   RSS); both runs then read the pooled cache.
 * - PyTorch (`torch_trainer.py`, `/usr/bin/python3` when it can import torch): the `vse` recipe on the
 *   same pooled features and caption vectors, with as many threads as OpenBLAS.
 *
 * Prints one JSON object with the ratios side by side: `vseVsTorch` (torch epoch seconds / cleave epoch
 * seconds: ≥ 1 means cleave is as fast), `refurbVsVse` (refurb epoch after the warm-up / vse epoch).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSyntheticPrecomp } from 'cleave/dataset';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const round = (x: number, digits = 2) => Number(x.toFixed(digits));
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);

interface ChildResult {
  method: string;
  epochs: { epoch: number; phase: string; seconds: number; cpuSeconds: number; rss: number }[];
  splitSeconds: number[];
  splitCpuSeconds: number[];
  totalCpuSeconds: number;
  outsideEpochsCpuSeconds: number;
  timing: { loadSeconds: number; trainSeconds: number; evalSeconds: number; totalSeconds: number };
  totalSeconds: number;
  outsideEpochsSeconds: number;
  testRsum: number;
  splitAuc: number | null;
  peakRssMB: number;
}

function child<T = ChildResult>(options: Record<string, unknown>, threads: number): T {
  const script = fileURLToPath(new URL('./_trainer-child.ts', import.meta.url));
  const tsx = resolve('node_modules/.bin/tsx');
  const r = spawnSync(tsx, [script, JSON.stringify(options)], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_NUM_THREADS: String(threads), CLEAVE_LOG_LEVEL: 'warn' },
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0)
    throw new Error(`trainer child failed: ${r.stderr.trim().split('\n').slice(-5).join('\n')}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T;
}

function torchRun(
  o: Record<string, unknown>,
):
  | { epochs: number[]; trainSeconds: number[]; validationSeconds: number[]; version: string }
  | { skipped: string } {
  const python = '/usr/bin/python3';
  if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) {
    return { skipped: `${python} cannot import torch (apt-get install python3-torch)` };
  }
  const script = fileURLToPath(new URL('./torch_trainer.py', import.meta.url));
  const r = spawnSync(python, [script, JSON.stringify(o)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) return { skipped: `torch reference failed: ${r.stderr.trim().split('\n').at(-1)}` };
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

export async function run(args: string[]): Promise<unknown> {
  const shape = (option(args, 'shape') ?? 'f30k') as 'f30k' | 'coco' | 'cc152k';
  const scale = Number(option(args, 'scale') ?? '0.1');
  const regions = Number(option(args, 'regions') ?? '36');
  const vseEpochs = Number(option(args, 'vse-epochs') ?? '2');
  const refurbEpochs = Number(option(args, 'refurb-epochs') ?? '3');
  const noise = Number(option(args, 'noise') ?? '0.5');
  const threads = Number(option(args, 'threads') ?? process.env.OPENBLAS_NUM_THREADS ?? cpus().length);
  const backend = option(args, 'backend') ?? 'cpu-blas';
  const refurbConfigText = option(args, 'refurb-config');
  const refurbConfig = refurbConfigText
    ? (JSON.parse(refurbConfigText) as Record<string, unknown>)
    : undefined;
  const root = resolve(option(args, 'dir') ?? 'runs/bench-data');
  const parent = join(root, `${shape}-s${scale}-r${regions}`);
  const data = join(parent, `${shape}_precomp`);
  let generateSeconds: number | null = null;
  if (!existsSync(join(data, 'vocab'))) {
    const t0 = performance.now();
    await writeSyntheticPrecomp(parent, { shape, scale, regions });
    generateSeconds = round((performance.now() - t0) / 1000, 1);
  }
  const work = join(root, 'work');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const cacheDir = join(work, 'cache');
  const common = { data, cacheDir, backend };

  // the first load pools the region files into the (fresh) cache: timed on its own, so that both runs
  // below read the pooled cache and their time outside the epochs is the method's own
  const pool = child<{ poolSeconds: number; peakRssMB: number }>({ data, cacheDir, poolOnly: true }, threads);
  const refurb = child(
    {
      ...common,
      out: join(work, 'refurb'),
      method: 'refurb',
      epochs: refurbEpochs,
      warmupEpochs: 1,
      noiseRate: noise,
      ...(refurbConfig ? { config: refurbConfig } : {}),
    },
    threads,
  );
  const vse = child(
    { ...common, out: join(work, 'vse'), method: 'vse', epochs: vseEpochs, warmupEpochs: 0 },
    threads,
  );

  const skipTorch = args.includes('--skip-torch');
  const torch = skipTorch
    ? { skipped: '--skip-torch' }
    : torchRun({
        train: join(cacheDir, `${shape}_train_ims.mean.npy`),
        trainCaps: join(data, 'train_caps.npy'),
        dev: join(cacheDir, `${shape}_dev_ims.mean.npy`),
        devCaps: join(data, 'dev_caps.npy'),
        epochs: vseEpochs,
        threads,
      });

  const vseEpoch = mean(vse.epochs.map((e) => e.seconds));
  const after = refurb.epochs.filter((e) => e.phase === 'train').map((e) => e.seconds);
  const refurbEpoch = mean(after);
  const vseEpochCpu = mean(vse.epochs.map((e) => e.cpuSeconds));
  const afterCpu = refurb.epochs.filter((e) => e.phase === 'train').map((e) => e.cpuSeconds);
  const torchEpoch = 'epochs' in torch ? mean(torch.epochs) : Number.NaN;
  return {
    suite: 'trainer',
    shape,
    scale,
    regions,
    threads,
    backend,
    data,
    generateSeconds,
    pool: { seconds: round(pool.poolSeconds), peakRssMB: round(pool.peakRssMB, 0) },
    vse: {
      epochSeconds: vse.epochs.map((e) => round(e.seconds)),
      meanEpochSeconds: round(vseEpoch),
      epochCpuSeconds: vse.epochs.map((e) => round(e.cpuSeconds)),
      outsideEpochsSeconds: round(vse.outsideEpochsSeconds),
      outsideEpochsCpuSeconds: round(vse.outsideEpochsCpuSeconds),
      loadSeconds: round(vse.timing.loadSeconds),
      peakRssMB: round(vse.peakRssMB, 0),
      testRsum: round(vse.testRsum, 1),
    },
    refurb: {
      ...(refurbConfig ? { config: refurbConfig } : {}),
      warmupSeconds: refurb.epochs.filter((e) => e.phase === 'warmup').map((e) => round(e.seconds)),
      epochSeconds: after.map((s) => round(s)),
      scoreAndSplitSeconds: refurb.splitSeconds.map((s) => round(s)),
      meanEpochSeconds: round(refurbEpoch),
      warmupCpuSeconds: refurb.epochs.filter((e) => e.phase === 'warmup').map((e) => round(e.cpuSeconds)),
      epochCpuSeconds: afterCpu.map((s) => round(s)),
      scoreAndSplitCpuSeconds: refurb.splitCpuSeconds.map((s) => round(s)),
      outsideEpochsSeconds: round(refurb.outsideEpochsSeconds),
      outsideEpochsCpuSeconds: round(refurb.outsideEpochsCpuSeconds),
      timing: refurb.timing,
      peakRssMB: round(refurb.peakRssMB, 0),
      testRsum: round(refurb.testRsum, 1),
      splitAuc: refurb.splitAuc === null ? null : round(refurb.splitAuc, 3),
    },
    reference: {
      torch:
        'epochs' in torch
          ? {
              version: torch.version,
              epochSeconds: torch.epochs.map((s) => round(s)),
              trainSeconds: torch.trainSeconds.map((s) => round(s)),
              validationSeconds: torch.validationSeconds.map((s) => round(s)),
              meanEpochSeconds: round(torchEpoch),
            }
          : torch,
    },
    ratios: {
      vseVsTorch: Number.isFinite(torchEpoch) ? round(torchEpoch / vseEpoch) : null,
      refurbVsVse: round(refurbEpoch / vseEpoch),
      refurbVsVseCpu: round(mean(afterCpu) / vseEpochCpu),
    },
    notes: {
      vseVsTorch: 'torch epoch seconds / cleave vse epoch seconds (>= 1: cleave at least as fast)',
      refurbVsVse: 'refurb epoch after the warm-up / vse epoch (target <= 1.5)',
      cpuSeconds: 'the same in process CPU seconds (user + system): steadier on a shared machine',
      outsideEpochsSeconds:
        'the run process wall time minus its epochs: start-up, load (pooled cache), noise, evaluation, writing',
      pool: 'the first load of the folder: streams the region file, writes the pooled cache (once per dataset)',
    },
  };
}
