/**
 * `npm run bench -- backend [--json] [--backends cpu-blas,cpu] [--steps 10] [--budget 30]`
 *
 * For every available compute backend: sgemm GFLOP/s at 1024³ and 2048³ (tf.matMul, median), and the
 * reference training step (experiments/bench/_reference-step.ts) in pairs/s at batch 128 and 1024
 * (median of ≥10 steps after 3 warm-up steps), with cleave's optimizer (`createOptimizer`).
 * In the same run, when `/usr/bin/python3 -c 'import torch'` works, the same sgemm and step in PyTorch
 * (`reference.torch`, same thread count as OpenBLAS), and the cpu-blas step with `tf.train.adam`
 * (`ablation`), so ratios can be read off one run.
 *
 * Slow backends are capped: a measurement whose projected time exceeds `--budget` seconds (default 30)
 * runs 1 warm-up and fewer timed repetitions (at least 2 steps, 1 sgemm), or a single run when one run
 * alone exceeds the budget; each such case is recorded under `capped`.
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, initBackend, probeBackends, setLogLevel } from 'cleave';
import { createOptimizer } from 'cleave/model';
import { makeReferenceStep } from './_reference-step.js';

interface Result {
  sgemm: Record<string, number>;
  step: Record<string, number>;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

function timeOnce(f: () => void): number {
  const t = performance.now();
  f();
  return (performance.now() - t) / 1000;
}

/**
 * Median seconds of `reps` timed calls of f after `warmup` calls. When the first call shows the whole
 * run would exceed `budgetS`, the rest of the warm-up is skipped and fewer calls are timed (at least
 * `minReps`); when the first call alone exceeds the budget it is the measurement. `n` and `warmup`
 * say what was actually done.
 */
function timed(
  f: () => void,
  reps: number,
  minReps: number,
  budgetS: number,
  warmup = 1,
): { s: number; n: number; warmup: number } {
  const first = timeOnce(f);
  if (first >= budgetS) return { s: first, n: 1, warmup: 0 };
  if (first * (warmup - 1 + reps) > budgetS) {
    const n = Math.min(reps, Math.max(minReps, Math.floor((budgetS - first) / first)));
    const times = Array.from({ length: n }, () => timeOnce(f));
    return { s: median(times), n, warmup: 1 };
  }
  for (let i = 1; i < warmup; i++) timeOnce(f);
  const times = Array.from({ length: reps }, () => timeOnce(f));
  return { s: median(times), n: reps, warmup };
}

const doneText = (n: number, warmup: number) =>
  warmup === 0
    ? '1 run, no separate warm-up (one run exceeds the budget)'
    : `median of ${n} after ${warmup} warm-up`;

function sgemm(n: number, budgetS: number, capped: string[]): number {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  // (tidy must not return the values: it would walk all n² entries looking for tensors)
  const run = () =>
    tf.tidy(() => {
      tf.matMul(a, b).dataSync();
    });
  const { s, n: reps, warmup } = timed(run, 5, 1, budgetS);
  if (reps < 5) capped.push(`sgemm ${n}: ${doneText(reps, warmup)} (time budget ${budgetS} s)`);
  tf.dispose([a, b]);
  return (2 * n ** 3) / s / 1e9;
}

function step(
  batch: number,
  steps: number,
  budgetS: number,
  capped: string[],
  adam: 'cleave' | 'tfjs',
): number {
  const optimizer =
    adam === 'cleave' ? createOptimizer({ kind: 'adam', learningRate: 1e-3 }) : tf.train.adam(1e-3);
  const ref = makeReferenceStep({ batch, optimizer });
  const { s, n, warmup } = timed(() => ref.run(), steps, 2, budgetS, 3);
  if (n < steps) capped.push(`step ${batch}: ${doneText(n, warmup)} (time budget ${budgetS} s)`);
  ref.dispose();
  optimizer.dispose();
  return batch / s;
}

interface TorchRun {
  threads: number;
  sgemm: Record<string, number>;
  step: Record<string, number>;
}

/** The PyTorch reference at 1 thread and at `threads` threads (both: contention can favour either). */
function torchReference(
  threads: number,
  steps: number,
): { version?: string; runs?: TorchRun[]; skipped?: string } {
  const python = '/usr/bin/python3';
  if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) {
    return { skipped: `${python} cannot import torch (apt-get install python3-torch)` };
  }
  const script = fileURLToPath(new URL('./torch_reference.py', import.meta.url));
  const runs: TorchRun[] = [];
  let version: string | undefined;
  for (const t of [...new Set([1, threads])]) {
    const cfg = JSON.stringify({ threads: t, steps, warmup: 3, batches: [128, 1024], sizes: [1024, 2048] });
    const r = spawnSync(python, [script, cfg], { encoding: 'utf8' });
    if (r.status !== 0) return { skipped: `torch reference failed: ${r.stderr.trim().split('\n').at(-1)}` };
    const out = JSON.parse(r.stdout) as TorchRun & { version: string };
    version = out.version;
    const fix = (rec: Record<string, number>, digits: number) =>
      Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, round(v, digits)]));
    runs.push({ threads: t, sgemm: fix(out.sgemm, 1), step: fix(out.step, 0) });
  }
  return { version, runs };
}

export async function run(args: string[]): Promise<unknown> {
  setLogLevel('warn');
  const steps = Number(option(args, 'steps') ?? 10);
  const budgetS = Number(option(args, 'budget') ?? 30);
  const only = option(args, 'backends')?.split(',');
  const statuses = await probeBackends();
  const names = statuses
    .filter((s) => s.available && (!only || only.includes(s.name)))
    .map((s) => s.name as BackendName);

  const backends: Record<string, Result> = {};
  const capped: Record<string, string[]> = {};
  const unavailable: Record<string, string> = {};
  for (const s of statuses) if (!s.available) unavailable[s.name] = s.detail;
  const blas = statuses.find((s) => s.name === 'cpu-blas' && s.available);
  const blasThreads = Number(/(\d+) threads/.exec(blas?.detail ?? '')?.[1] ?? cpus().length);
  let ablation: Record<string, unknown> | undefined;

  // the reference first, next to the first (fastest) backend: load on a shared machine drifts
  const torch = torchReference(blasThreads, steps);
  for (const name of names) {
    await initBackend({ backend: name });
    const notes: string[] = [];
    const result: Result = { sgemm: {}, step: {} };
    for (const n of [1024, 2048]) result.sgemm[n] = round(sgemm(n, budgetS, notes));
    for (const batch of [128, 1024])
      result.step[batch] = round(step(batch, steps, budgetS, notes, 'cleave'), 0);
    if (name === 'cpu-blas') {
      ablation = {
        'cpu-blas': {
          step: { '128': round(step(128, steps, budgetS, notes, 'tfjs'), 0) },
          optimizer: 'tf.train.adam',
        },
      };
    }
    backends[name] = result;
    if (notes.length) capped[name] = notes;
  }

  // ratios to the faster of the torch runs, per batch size
  const ratio: Record<string, Record<string, number>> = {};
  for (const [name, r] of Object.entries(backends)) {
    const perBatch: Record<string, number> = {};
    for (const [batch, pps] of Object.entries(r.step)) {
      const best = Math.max(0, ...(torch.runs ?? []).map((run) => run.step[batch] ?? 0));
      if (best > 0) perBatch[`step${batch}`] = round(pps / best, 2);
    }
    if (Object.keys(perBatch).length) ratio[name] = perBatch;
  }
  return {
    backends,
    reference: { torch },
    ...(Object.keys(ratio).length ? { ratioToTorch: ratio } : {}),
    ...(ablation ? { ablation } : {}),
    ...(Object.keys(capped).length ? { capped } : {}),
    unavailable,
    method: {
      sgemm: 'tf.matMul of two random n×n float32 matrices incl. dataSync; median of 5 after 1 warm-up',
      step: `reference step (2048→1024 and 768→1024 heads, L2 norm, hinge over in-batch S, Adam 1e-3), median of ${steps} after 3 warm-up`,
      optimizer: "cleave's createOptimizer({ kind: 'adam' }) (fused); ablation: tf.train.adam",
      ratioToTorch: 'pairs/s divided by the faster torch run (1 thread or as many threads as OpenBLAS)',
      cpus: cpus().length,
      blas: blas?.detail ?? 'unavailable',
      openblasCoretype: process.env.OPENBLAS_CORETYPE ?? '(auto-detected)',
    },
  };
}
