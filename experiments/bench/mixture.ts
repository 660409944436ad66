/**
 * `npm run bench -- mixture [--json] [--sizes 1e4,1e5,1e6,1e7] [--repeats 3] [--iterations 10]`
 *
 * Fit time of the two-component beta mixture (EM, `iterations` iterations, tol 0: the reference
 * procedure) on synthetic losses drawn from a known beta mixture, for each size, against the
 * independent numpy/scipy EM of `test/reference/mixture_reference.py` run on the *same* values (written
 * to a temporary `.f64` file) in the same run. Reports the best of `repeats` timings for both, the
 * speed-up, and the largest relative difference between the two fits' parameters.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from 'cleave';
import { BetaMixture, sampleBetaMixture } from 'cleave/mixture';

const referenceScript = fileURLToPath(new URL('../../test/reference/mixture_reference.py', import.meta.url));

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : fallback;
}

interface ReferenceResult {
  seconds: number;
  params: { alphas: number[]; betas: number[]; weights: number[] };
}

function runReference(
  file: string,
  iterations: number,
  repeats: number,
): ReferenceResult | { error: string } {
  const r = spawnSync('python3', [referenceScript, 'bench', file, String(iterations), String(repeats)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || 'python3 failed').trim().slice(-500) };
  return JSON.parse(r.stdout) as ReferenceResult;
}

function maxRelDiff(a: readonly number[], b: readonly number[]): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    m = Math.max(m, Math.abs(x - y) / Math.max(Math.abs(y), 1e-300));
  }
  return m;
}

export async function run(args: string[]): Promise<unknown> {
  const sizes = option(args, 'sizes', '1e4,1e5,1e6,1e7')
    .split(',')
    .map((s) => Math.round(Number(s)));
  const repeats = Number(option(args, 'repeats', '3'));
  const iterations = Number(option(args, 'iterations', '10'));
  const truth = { alphas: [2, 8], betas: [12, 3], weights: [0.6, 0.4] } as const;
  const dir = mkdtempSync(join(tmpdir(), 'cleave-bench-mixture-'));
  const rows: unknown[] = [];
  try {
    // Warm the JIT on a small problem first.
    const warm = sampleBetaMixture(20_000, truth, new Rng(1)).values;
    for (let i = 0; i < 5; i++) new BetaMixture({ maxIter: iterations, tol: 0 }).fit(warm);

    for (const n of sizes) {
      const { values } = sampleBetaMixture(n, truth, new Rng(n));
      const reps = n >= 5_000_000 ? 1 : repeats;
      let best = Number.POSITIVE_INFINITY;
      let model: BetaMixture | undefined;
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        model = new BetaMixture({ maxIter: iterations, tol: 0 }).fit(values);
        best = Math.min(best, (performance.now() - t0) / 1000);
      }
      const file = join(dir, `values-${n}.f64`);
      writeFileSync(file, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      const ref = runReference(file, iterations, reps);
      rmSync(file, { force: true });
      const params = model!.params;
      if ('error' in ref) {
        rows.push({ n, cleaveSeconds: best, reference: null, referenceError: ref.error });
        continue;
      }
      rows.push({
        n,
        cleaveSeconds: Number(best.toFixed(4)),
        referenceSeconds: Number(ref.seconds.toFixed(4)),
        speedup: Number((ref.seconds / best).toFixed(2)),
        maxRelParamDiff: Math.max(
          maxRelDiff(params.alphas, ref.params.alphas),
          maxRelDiff(params.betas, ref.params.betas),
          maxRelDiff(params.weights, ref.params.weights),
        ),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const at1e6 = rows.find((r) => (r as { n: number }).n === 1_000_000) as { speedup?: number } | undefined;
  return {
    suite: 'mixture',
    what: `BetaMixture.fit, ${iterations} EM iterations (tol 0), vs numpy/scipy EM on the same values`,
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    truth,
    repeats,
    rows,
    goal: { n: 1_000_000, minSpeedup: 3, speedup: at1e6?.speedup ?? null, met: (at1e6?.speedup ?? 0) >= 3 },
  };
}
