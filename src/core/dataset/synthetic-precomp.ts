/**
 * Synthetic `*_precomp` folders with the exact shapes of the field's benchmarks, for speed work and
 * tests (`cleave bench-data`): region features `{split}_ims.npy` `[N, 36, 2048]` float32, raw captions
 * `{split}_caps.txt` (5 per image) or `_caps.tsv` (CC152K, 1 per image), 768-d caption feature vectors
 * `{split}_caps.npy` (cleave's extension, optional) and `vocab/<name>_precomp_vocab.json`.
 *
 * | shape | train | dev | test | testall |
 * |---|---|---|---|---|
 * | `f30k` | 29,000 × 5 | 1,014 × 5 (5,070 captions: the loader keeps 5,000) | 1,000 × 5 | — |
 * | `coco` | 113,287 × 5 | 5,000 × 5 | 1,000 × 5 | 5,000 × 5 |
 * | `cc152k` | 150,000 × 1 | 1,000 × 1 | 1,000 × 1 | — |
 *
 * `scale` multiplies every image count (at least 10 images per split; `f30k`'s dev keeps 14 extra
 * images at every scale). Pairs are learnable: each image has a latent topic vector; its regions and
 * its captions' vectors are noisy linear views of it, and its captions' words are drawn from its
 * strongest topics. Files are streamed to disk (memory: one chunk), each written atomically.
 *
 * @example
 * ```ts
 * import { writeSyntheticPrecomp } from 'cleave/dataset';
 * import { loadPrecomp } from 'cleave/io';
 * const dir = await writeSyntheticPrecomp('runs/bench', { shape: 'f30k', scale: 0.01 });   // runs/bench/f30k_precomp
 * const data = await loadPrecomp(dir);
 * ```
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { parseOrThrow } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { encodeNpyHeader } from '../io/npy-header.js';
import { Rng } from '../random.js';
import { Vocabulary } from '../text/tokenizer.js';

/** The split sizes (images, captions per image) of each benchmark shape. */
export const PRECOMP_SHAPES = {
  f30k: { captionsPerImage: 5, splits: { train: 29000, dev: 1014, test: 1000 } },
  coco: { captionsPerImage: 5, splits: { train: 113287, dev: 5000, test: 1000, testall: 5000 } },
  cc152k: { captionsPerImage: 1, splits: { train: 150000, dev: 1000, test: 1000 } },
} as const;

/** The benchmark shapes {@link writeSyntheticPrecomp} can imitate. */
export const SYNTHETIC_SHAPES = ['f30k', 'coco', 'cc152k'] as const;

/** Options of {@link writeSyntheticPrecomp}. */
export const syntheticPrecompOptionsSchema = z
  .object({
    shape: z.enum(SYNTHETIC_SHAPES),
    /** Multiplies every split's image count (1 = the real sizes). */
    scale: z.number().positive().max(1).default(1),
    regions: z.number().int().positive().default(36),
    imageDim: z.number().int().positive().default(2048),
    /** Width of `{split}_caps.npy`; 0 writes no caption vectors (raw captions only). */
    captionDim: z.number().int().nonnegative().default(768),
    /** Latent topics shared by an image and its captions. */
    topics: z.number().int().positive().default(32),
    /** Regions' and caption vectors' noise, relative to the signal. */
    noise: z.number().nonnegative().default(1),
    seed: z.number().int().default(0),
  })
  .strict();
/** Options of {@link writeSyntheticPrecomp}, as written. */
export type SyntheticPrecompOptions = z.input<typeof syntheticPrecompOptionsSchema>;

const WORDS_PER_TOPIC = 6;
const FILLER = ['a', 'the', 'is', 'in', 'on', 'with', 'and', 'of', 'at', 'near'];

async function streamFile(path: string, write: (put: (bytes: Uint8Array) => Promise<void>) => Promise<void>) {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'w');
  try {
    let position = 0;
    await write(async (bytes) => {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position);
        done += bytesWritten;
        position += bytesWritten;
      }
    });
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(tmp, path);
}

/** A fixed random projection, generated row by row from a seed (never stored whole when large). */
function projection(rng: Rng, topics: number, dim: number): Float32Array {
  const w = new Float32Array(topics * dim);
  const s = 1 / Math.sqrt(topics);
  for (let k = 0; k < w.length; k++) w[k] = rng.normal() * s;
  return w;
}

/**
 * Write a synthetic `<shape>_precomp` folder under `parent` (see the module documentation).
 *
 * @returns the folder written (`<parent>/<shape>_precomp`)
 * @example
 * ```ts
 * await writeSyntheticPrecomp('/tmp/bench', { shape: 'coco', scale: 0.05, captionDim: 0 });
 * ```
 */
export async function writeSyntheticPrecomp(
  parent: string,
  options: SyntheticPrecompOptions,
): Promise<string> {
  const o = parseOrThrow(syntheticPrecompOptionsSchema, options, 'writeSyntheticPrecomp options');
  const spec = PRECOMP_SHAPES[o.shape];
  const dir = join(parent, `${o.shape}_precomp`);
  const root = new Rng(o.seed);
  const wImage = projection(root.fork('image-projection'), o.topics, o.imageDim);
  const wCaption =
    o.captionDim > 0 ? projection(root.fork('caption-projection'), o.topics, o.captionDim) : undefined;
  const topicWords = Array.from({ length: o.topics }, (_, t) =>
    Array.from({ length: WORDS_PER_TOPIC }, (_, w) => `w${t}x${w}`),
  );
  const allCaptions: string[] = [];
  for (const [prefix, fullCount] of Object.entries(spec.splits)) {
    const extra = o.shape === 'f30k' && prefix === 'dev' ? 14 : 0;
    const n = Math.max(10, Math.round((fullCount - extra) * o.scale)) + extra;
    const k = spec.captionsPerImage;
    const rng = root.fork(`split-${prefix}`);
    const latent = new Float32Array(n * o.topics);
    for (let i = 0; i < latent.length; i++) latent[i] = rng.normal();
    // region features, streamed in chunks of images
    const chunk = 16;
    const imgRng = rng.fork('regions');
    await streamFile(join(dir, `${prefix}_ims.npy`), async (put) => {
      await put(encodeNpyHeader('float32', [n, o.regions, o.imageDim]));
      const buf = new Float32Array(chunk * o.regions * o.imageDim);
      const base = new Float32Array(o.imageDim);
      for (let i0 = 0; i0 < n; i0 += chunk) {
        const m = Math.min(chunk, n - i0);
        for (let i = 0; i < m; i++) {
          base.fill(0);
          for (let t = 0; t < o.topics; t++) {
            const z = latent[(i0 + i) * o.topics + t]!;
            const row = t * o.imageDim;
            for (let d = 0; d < o.imageDim; d++) base[d]! += z * wImage[row + d]!;
          }
          for (let r = 0; r < o.regions; r++) {
            const off = (i * o.regions + r) * o.imageDim;
            for (let d = 0; d < o.imageDim; d++) {
              // cheap noise: a centred uniform with the variance of a standard normal
              const u = (imgRng.float() - 0.5) * 3.4641016;
              buf[off + d] = Math.max(0, base[d]! + o.noise * u);
            }
          }
        }
        await put(new Uint8Array(buf.buffer, 0, m * o.regions * o.imageDim * 4));
      }
    });
    // captions: words of the image's strongest topics, plus fillers
    const texts: string[] = [];
    const capRng = rng.fork('captions');
    for (let i = 0; i < n; i++) {
      const z = latent.subarray(i * o.topics, (i + 1) * o.topics);
      const order = Array.from(z.keys()).sort((a, b) => z[b]! - z[a]!);
      for (let c = 0; c < k; c++) {
        const words: string[] = [];
        const len = 6 + capRng.int(8);
        for (let w = 0; w < len; w++) {
          if (capRng.float() < 0.35) words.push(FILLER[capRng.int(FILLER.length)]!);
          else
            words.push(topicWords[order[capRng.int(Math.min(3, o.topics))]!]![capRng.int(WORDS_PER_TOPIC)]!);
        }
        texts.push(`${words.join(' ')} .`);
      }
    }
    if (o.shape === 'cc152k') {
      await writeFileAtomic(
        join(dir, `${prefix}_caps.tsv`),
        texts.map((t, j) => `img${prefix}${j}\t${t}\n`).join(''),
      );
    } else {
      await writeFileAtomic(join(dir, `${prefix}_caps.txt`), texts.map((t) => `${t}\n`).join(''));
    }
    if (prefix === 'train' || prefix === 'dev') for (const t of texts) allCaptions.push(t);
    if (wCaption) {
      const capVecRng = rng.fork('caption-vectors');
      await streamFile(join(dir, `${prefix}_caps.npy`), async (put) => {
        await put(encodeNpyHeader('float32', [n * k, o.captionDim]));
        const rowsPerChunk = 256;
        const buf = new Float32Array(rowsPerChunk * o.captionDim);
        for (let j0 = 0; j0 < n * k; j0 += rowsPerChunk) {
          const m = Math.min(rowsPerChunk, n * k - j0);
          buf.fill(0);
          for (let r = 0; r < m; r++) {
            const i = Math.floor((j0 + r) / k);
            const row = buf.subarray(r * o.captionDim, (r + 1) * o.captionDim);
            for (let t = 0; t < o.topics; t++) {
              const z = latent[i * o.topics + t]!;
              for (let d = 0; d < o.captionDim; d++) row[d]! += z * wCaption[t * o.captionDim + d]!;
            }
            for (let d = 0; d < o.captionDim; d++) row[d]! += o.noise * capVecRng.normal();
          }
          await put(new Uint8Array(buf.buffer, 0, m * o.captionDim * 4));
        }
      });
    }
  }
  await Vocabulary.build(allCaptions, { threshold: 4 }).save(
    join(dir, 'vocab', `${o.shape}_precomp_vocab.json`),
  );
  return dir;
}
