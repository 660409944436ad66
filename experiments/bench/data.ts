/**
 * `npm run bench -- data [--json] [--rows N] [--dim D] [--pairs P] [--repeats R]`
 *
 * 1. Reading a large float32 `.npy` (default 1,000,000 × 512 = 2.05 GB) with cleave's `readNpy`
 *    (with and without the NaN/Inf check), against `numpy.load` (+ `np.isfinite(a).all()`) on the same
 *    file, run from here through `python3`. Both read from the page cache (the file was just written).
 *    NumPy madvises huge pages for big arrays (512× fewer page faults), which Node cannot; the numpy
 *    load is also timed with that switched off, for a like-for-like ratio.
 * 2. Injecting caption-level shuffle noise (NCR protocol) into 1,000,000 pairs (200,000 images × 5
 *    captions), against the same shuffle written in NumPy (NCR's own recipe), plus image-level shuffle
 *    and partial/complete labelling by class.
 *
 * Temporary files go to a fresh folder under the OS temp dir and are removed at the end.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { injectNoise, PairDataset, Rng } from 'cleave';
import { readNpy, writeNpy } from 'cleave/io';

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

async function best<T>(repeats: number, fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  let ms = Number.POSITIVE_INFINITY;
  let value: T | undefined;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    value = await fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, value: value as T };
}

const NUMPY = `
import json, sys, time
import numpy as np
path, repeats, pairs, per_image, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
def best(fn):
    t = float('inf')
    for _ in range(repeats):
        t0 = time.perf_counter(); out = fn(); t = min(t, time.perf_counter() - t0)
    return t * 1000, out
load_ms, a = best(lambda: np.load(path))
finite_ms, ok = best(lambda: bool(np.isfinite(a).all()))
shape = list(a.shape)
del a
# numpy asks the kernel for transparent huge pages on big allocations (far fewer page faults); Node cannot,
# so also time numpy without them for a like-for-like comparison
try:
    np._core.multiarray._set_madvise_hugepage(False)
    load_small_pages_ms, a = best(lambda: np.load(path))
    np._core.multiarray._set_madvise_hugepage(True)
    del a
except AttributeError:
    load_small_pages_ms = None
clean = np.arange(pairs) // per_image
def ncr_shuffle():
    rng = np.random.default_rng(7)
    t2i = clean.copy()
    idx = np.arange(pairs); rng.shuffle(idx)
    m = int(rate * pairs)
    s = t2i[idx[:m]]; rng.shuffle(s); t2i[idx[:m]] = s
    return int((t2i != clean).sum())
shuffle_ms, noisy = best(ncr_shuffle)
print(json.dumps({"numpy": np.__version__, "loadMs": load_ms, "loadNoHugePagesMs": load_small_pages_ms, "isfiniteMs": finite_ms, "allFinite": ok, "shape": shape,
                  "ncrShuffleMs": shuffle_ms, "ncrNoisyPairs": noisy}))
`;

export async function run(args: string[]): Promise<unknown> {
  const rows = option(args, 'rows', 1_000_000);
  const dim = option(args, 'dim', 512);
  const pairs = option(args, 'pairs', 1_000_000);
  const repeats = option(args, 'repeats', 2);
  const perImage = 5;
  const rate = 0.2;
  const dir = await mkdtemp(join(tmpdir(), 'cleave-bench-data-'));
  const file = join(dir, 'features.npy');
  try {
    // --- a large float32 .npy (a tiled block of normal draws; the content does not matter for speed)
    let data: Float32Array | undefined = new Float32Array(rows * dim);
    const block = new Rng(1).fillNormal(new Float32Array(Math.min(rows, 4096) * dim));
    for (let off = 0; off < data.length; off += block.length)
      data.set(block.subarray(0, Math.min(block.length, data.length - off)), off);
    const t0 = performance.now();
    await writeNpy(file, data, [rows, dim]);
    const writeMs = performance.now() - t0;
    data = undefined;
    const bytes = (await stat(file)).size;
    const mb = bytes / 1e6;

    const checked = await best(repeats, async () => (await readNpy(file, { as: 'float32' })).shape);
    const unchecked = await best(
      repeats,
      async () => (await readNpy(file, { as: 'float32', checkFinite: false })).shape,
    );

    const py = spawnSync(
      'python3',
      ['-c', NUMPY, file, String(repeats), String(pairs), String(perImage), String(rate)],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      },
    );
    const numpy =
      py.status === 0 ? (JSON.parse(py.stdout.trim().split('\n').pop()!) as Record<string, number>) : null;

    // --- noise on 1M pairs
    const numImages = Math.ceil(pairs / perImage);
    const dataset = PairDataset.fromArrays({
      name: 'bench',
      images: { data: new Float32Array(numImages), dim: 1 },
      captions: { data: new Float32Array(pairs), dim: 1 },
      captionToImage: Int32Array.from({ length: pairs }, (_, j) => Math.floor(j / perImage)),
    });
    const labelled = PairDataset.fromArrays({
      name: 'bench-labelled',
      images: { data: new Float32Array(numImages), dim: 1 },
      captions: { data: new Float32Array(pairs), dim: 1 },
      captionToImage: dataset.captionToImage,
      labels: Int32Array.from({ length: numImages }, (_, i) => i % 100),
    });
    const shuffle = await best(repeats, () =>
      injectNoise(dataset, { rate, kind: 'shuffle', seed: 7, partialBy: 'none' }),
    );
    const shuffleLabels = await best(repeats, () =>
      injectNoise(labelled, { rate, kind: 'shuffle', seed: 7 }),
    );
    const images = await best(repeats, () =>
      injectNoise(dataset, { rate, kind: 'shuffle-images', seed: 7, partialBy: 'none' }),
    );

    const loadRatio = numpy ? numpy.loadMs! / checked.ms : null;
    return {
      machine: { cpus: cpus().length, node: process.version, numpy: numpy?.numpy ?? null },
      npy: {
        rows,
        dim,
        bytes,
        write: { ms: round(writeMs), MBps: round(mb / (writeMs / 1000)) },
        cleave: {
          readMs: round(checked.ms),
          MBps: round(mb / (checked.ms / 1000)),
          readNoCheckMs: round(unchecked.ms),
          MBpsNoCheck: round(mb / (unchecked.ms / 1000)),
        },
        numpy: numpy
          ? {
              loadMs: round(numpy.loadMs!),
              MBps: round(mb / (numpy.loadMs! / 1000)),
              isfiniteMs: round(numpy.isfiniteMs!),
              loadPlusIsfiniteMs: round(numpy.loadMs! + numpy.isfiniteMs!),
              loadNoHugePagesMs: numpy.loadNoHugePagesMs ? round(numpy.loadNoHugePagesMs) : null,
            }
          : { error: py.stderr || py.error?.message || 'python3 failed' },
        speedVsNumpyLoad: loadRatio === null ? null : round(loadRatio, 3),
        speedVsNumpyLoadPlusIsfinite: numpy
          ? round((numpy.loadMs! + numpy.isfiniteMs!) / checked.ms, 3)
          : null,
        speedNoCheckVsNumpyLoadNoHugePages: numpy?.loadNoHugePagesMs
          ? round(numpy.loadNoHugePagesMs / unchecked.ms, 3)
          : null,
      },
      noise: {
        pairs,
        images: numImages,
        rate,
        cleave: {
          shuffleMs: round(shuffle.ms),
          noisyPairs: shuffle.value.summary.noisyPairs,
          shuffleWithClassLabelsMs: round(shuffleLabels.ms),
          shuffleImagesMs: round(images.ms),
        },
        numpy: numpy ? { ncrShuffleMs: round(numpy.ncrShuffleMs!), noisyPairs: numpy.ncrNoisyPairs } : null,
        speedVsNumpyShuffle: numpy ? round(numpy.ncrShuffleMs! / shuffle.ms, 3) : null,
      },
      repeats,
      note: 'best of `repeats`; speedVs* > 1 means cleave is faster; both read the same file from the page cache',
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
