/**
 * Regression tests of issue 15's numbered defects, in process (the CLI-level fault suite is in
 * `cli.test.ts`): each test names its defect, and each failed on the code before the fix.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CleaveError, ConfigError, DataError, OutputError, TrainingError } from '../../src/core/errors.js';
import { loadClipRetrievalFolder } from '../../src/core/io/clip-retrieval.js';
import { loadPairs } from '../../src/core/io/manifest.js';
import { readNpy, writeNpy } from '../../src/core/io/npy.js';
import { auditPairs } from '../../src/run/audit.js';
import { markdownTable } from '../../src/run/table.js';
import { trainAndReport } from '../../src/run/train-and-report.js';
import { Trainer } from '../../src/trainer/trainer.js';
import type { TrainerCallback } from '../../src/trainer/types.js';
import {
  SMALL,
  syntheticPairs,
  tempDir,
  useCpu,
  writeScrapedFolder,
  writeSyntheticManifest,
} from '../run/helpers.js';

const tmp = tempDir('cleave-defects-');
beforeAll(useCpu);
afterAll(tmp.cleanup);

/** The issue's run file: `{"warmupEpochs":1}` with `--epochs 3`, on the bundled Myntra pairs. */
const RUN = { warmupEpochs: 1, epochs: 3 };
const MYNTRA = 'myntra-fashionclip-99';
/** The audit's small config. */
const AUDIT = { ...SMALL, epochs: 3, warmupEpochs: 2, split: { folds: 2, foldEpochs: 2 } };

let counter = 0;
const fresh = (name: string) => join(tmp.dir, `${name}-${counter++}`);

/** A callback that counts the epochs started (none may start when the outputs are refused). */
function epochCounter(): { callbacks: TrainerCallback[]; epochs: () => number } {
  let n = 0;
  return {
    callbacks: [
      {
        onEpochStart() {
          n++;
        },
      },
    ],
    epochs: () => n,
  };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

async function parquetRows(path: string): Promise<Record<string, unknown>[]> {
  const file = await asyncBufferFromFile(path);
  return parquetReadObjects({ file, metadata: await parquetMetadataAsync(file) });
}

describe('issue 15 defects', () => {
  it('1: a stray metadata shard does not misalign the cleaned copy', async () => {
    const input = fresh('stray');
    const { ids } = await writeScrapedFolder(input, { n: 120, rate: 0.2 });
    // shards 0 and 2, and a metadata_1.parquet with no embedding shard between them: the loader skips
    // it, so must the cleaned copy
    for (const [sub, ext] of [
      ['img_emb', 'npy'],
      ['text_emb', 'npy'],
      ['metadata', 'parquet'],
    ] as const) {
      renameSync(join(input, sub, `${sub}_1.${ext}`), join(input, sub, `${sub}_2.${ext}`));
    }
    copyFileSync(
      join(input, 'metadata', 'metadata_0.parquet'),
      join(input, 'metadata', 'metadata_1.parquet'),
    );
    const outDir = fresh('stray-out');
    await auditPairs({
      data: input,
      outDir,
      config: AUDIT,
      formats: ['csv'],
      plots: false,
      saveModel: false,
    });
    const kept = (await readNpy(join(outDir, 'kept.npy'))).data as Int32Array;
    // the cleaned copy keeps the input's shards (0 and 2), none for the stray metadata_1
    const shard = (k: number) => parquetRows(join(outDir, 'cleaned', 'metadata', `metadata_${k}.parquet`));
    const rows = [...(await shard(0)), ...(await shard(2))];
    expect(existsSync(join(outDir, 'cleaned', 'metadata', 'metadata_1.parquet'))).toBe(false);
    expect(rows.length).toBe(kept.length);
    rows.forEach((r, k) => {
      expect(r.key).toBe(ids[kept[k]!]);
      expect(r.caption).toBe(`caption number ${kept[k]}, "quoted", with a comma`);
    });
    const again = await loadClipRetrievalFolder(join(outDir, 'cleaned'));
    expect(again.numPairs).toBe(kept.length);
  });

  it('2: a reused output folder loses the previous run’s own stale files, never anyone else’s', async () => {
    const input = fresh('reuse');
    await writeScrapedFolder(input, { n: 100, rate: 0.2 });
    const outDir = fresh('reuse-out');
    const base = { data: input, outDir, config: AUDIT, plots: false, saveModel: false };
    await auditPairs({ ...base, formats: ['csv', 'jsonl'] });
    expect(existsSync(join(outDir, 'pairs.jsonl'))).toBe(true);
    writeFileSync(join(outDir, 'notes.txt'), 'mine');
    await auditPairs({ ...base, formats: ['csv'] });
    expect(existsSync(join(outDir, 'pairs.jsonl'))).toBe(false);
    expect(existsSync(join(outDir, 'pairs.csv'))).toBe(true);
    expect(readFileSync(join(outDir, 'notes.txt'), 'utf8')).toBe('mine');

    // the same folder, now from pairs without metadata: the old cleaned metadata shard goes
    const bare = fresh('reuse-bare');
    await writeScrapedFolder(bare, { n: 100, rate: 0.2 });
    rmSync(join(bare, 'metadata'), { recursive: true });
    await auditPairs({ ...base, data: bare, formats: ['csv'] });
    expect(existsSync(join(outDir, 'cleaned', 'metadata', 'metadata_0.parquet'))).toBe(false);
    expect((await loadClipRetrievalFolder(join(outDir, 'cleaned'))).hasCaptionTexts).toBe(false);

    // a shard cleave did not write is never removed: the run is refused before training instead
    const foreign = join(outDir, 'cleaned', 'img_emb', 'img_emb_7.npy');
    await writeNpy(foreign, new Float32Array(4), [1, 4]);
    const count = epochCounter();
    const e = await rejection(
      auditPairs({ ...base, data: bare, formats: ['csv'], callbacks: count.callbacks }),
    );
    expect(e).toBeInstanceOf(OutputError);
    expect(e.message).toContain('img_emb_7.npy');
    expect(count.epochs()).toBe(0);
    expect(existsSync(foreign)).toBe(true);
  });

  it('3: overlapping explicit splits are refused, or accepted with a report warning when allowed', async () => {
    const folder = fresh('overlap');
    const manifest = await writeSyntheticManifest(folder, { images: 120 });
    const raw = JSON.parse(readFileSync(manifest, 'utf8'));
    const range = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => a + k);
    raw.split = { by: 'images', train: range(0, 100), test: range(50, 120) };
    writeFileSync(manifest, JSON.stringify(raw));
    const options = { data: manifest, config: { ...SMALL, ...RUN }, plots: false, saveModel: false };
    const e = await rejection(trainAndReport({ ...options, outDir: fresh('overlap-out') }));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toMatch(/'train' and 'test' share 50 images/);
    expect(e.message).toContain('--allow-split-overlap');
    const { report } = await trainAndReport({
      ...options,
      outDir: fresh('overlap-out'),
      allowSplitOverlap: true,
    });
    expect(report.warnings?.some((w) => w.includes("'train' and 'test' share 50 images"))).toBe(true);
  });

  it('4: a collapsed model stops with a TrainingError naming the epoch; so does a non-finite loss', async () => {
    const collapsed = await rejection(
      trainAndReport({
        data: MYNTRA,
        outDir: fresh('collapse'),
        // the from-scratch encoders (CLIP inputs would get residual adapters with their own step size)
        // PCME++'s σ encoder on the features: σ² stays finite, the means collapse
        config: {
          ...RUN,
          sharedSpace: false,
          optimizer: { learningRate: 1e9 },
          model: { uncertainty: { input: 'features' } },
        },
      }),
    );
    expect(collapsed).toBeInstanceOf(TrainingError);
    expect(collapsed.message).toMatch(/chance level .* at epoch 2; lower optimizer.learningRate/);
    expect((collapsed as TrainingError).epoch).toBe(2);

    // the default σ branch reads the mean head's hidden layer: it blows up with it, and validation
    // stops the run at once instead of scoring an infinite σ² (once a DataError about "imageEmbeddings")
    const blownUp = await rejection(
      trainAndReport({
        data: MYNTRA,
        outDir: fresh('blow-up'),
        config: { ...RUN, sharedSpace: false, optimizer: { learningRate: 1e9 } },
      }),
    );
    expect(blownUp).toBeInstanceOf(TrainingError);
    expect(blownUp.message).toMatch(
      /training diverged: the model's validation image \d+ has σ² summed over its dimensions = Infinity .* at epoch 0; lower optimizer.learningRate/,
    );
    expect((blownUp as TrainingError).epoch).toBe(0);

    // a loss that overflows to NaN/Infinity in the retrain
    const data = syntheticPairs({ images: 60 });
    const trainer = new Trainer({
      ...SMALL,
      ...RUN,
      optimizer: { learningRate: 3e-3, retrainLearningRate: 1e30 },
    });
    const diverged = await rejection(trainer.fit(data));
    trainer.dispose();
    expect(diverged).toBeInstanceOf(TrainingError);
    expect(diverged.message).toMatch(/the loss became .* at epoch \d/);
    expect(diverged.message).toContain('learningRate');
  });

  it('5: checkpointing removes only its own epoch folders, and refuses a symlinked checkpoints folder', async () => {
    const outDir = fresh('ckpt');
    const cp = join(outDir, 'checkpoints');
    mkdirSync(join(cp, 'epoch-0099'), { recursive: true });
    writeFileSync(join(cp, 'epoch-0099', 'mine.txt'), 'mine');
    writeFileSync(join(cp, 'epoch-0042.txt'), 'mine');
    await trainAndReport({ data: MYNTRA, outDir, config: RUN, checkpoint: true, plots: false });
    expect(readFileSync(join(cp, 'epoch-0099', 'mine.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(cp, 'epoch-0042.txt'), 'utf8')).toBe('mine');
    expect(readdirSync(cp).filter((n) => /^epoch-\d+$/.test(n))).toEqual(['epoch-0003', 'epoch-0099']);

    const elsewhere = fresh('ckpt-target');
    mkdirSync(join(elsewhere, 'epoch-0001'), { recursive: true });
    writeFileSync(join(elsewhere, 'epoch-0001', 'state.json'), '{}');
    const linked = fresh('ckpt-link');
    mkdirSync(linked);
    symlinkSync(elsewhere, join(linked, 'checkpoints'));
    const count = epochCounter();
    const e = await rejection(
      trainAndReport({
        data: MYNTRA,
        outDir: linked,
        config: RUN,
        checkpoint: true,
        callbacks: count.callbacks,
      }),
    );
    expect(e).toBeInstanceOf(OutputError);
    expect(e.message).toMatch(/checkpoints: it is a symbolic link/);
    expect(count.epochs()).toBe(0);
    expect(existsSync(join(elsewhere, 'epoch-0001', 'state.json'))).toBe(true);
  });

  it('6: output-folder problems are refused before any epoch runs', async () => {
    const file = fresh('a-file');
    writeFileSync(file, 'x');
    const cases: [string, RegExp, Record<string, string>?][] = [
      [file, /it is an existing file, not a folder/],
      [join(file, 'under'), /a part of this path is a file/],
      ['/proc/cleave-x', /\/proc is a system folder/],
      [fresh('full'), /the disk is full/, { CLEAVE_FAULT_INJECT: 'ENOSPC:*' }],
    ];
    for (const [outDir, message, env] of cases) {
      const count = epochCounter();
      Object.assign(process.env, env ?? {});
      try {
        const e = await rejection(
          trainAndReport({ data: MYNTRA, outDir, config: RUN, callbacks: count.callbacks }),
        );
        expect(e, outDir).toBeInstanceOf(OutputError);
        expect(e.message).toMatch(message);
        expect(count.epochs()).toBe(0);
      } finally {
        delete process.env.CLEAVE_FAULT_INJECT;
      }
    }
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('7: a corrupted extra Parquet column fails the audit before training, naming the shard', async () => {
    const input = fresh('badcol');
    await writeScrapedFolder(input, { n: 100, rate: 0.2 });
    const shard = join(input, 'metadata', 'metadata_1.parquet');
    const meta = await parquetMetadataAsync(await asyncBufferFromFile(shard));
    const width = meta.row_groups[0]!.columns.find((c) => c.meta_data?.path_in_schema.includes('width'))!;
    const bytes = readFileSync(shard);
    const at = Number(width.meta_data!.data_page_offset);
    bytes.fill(0xff, at, at + 24);
    writeFileSync(shard, bytes);
    // the loader reads caption/url/key only: the data still loads
    expect((await loadClipRetrievalFolder(input)).numPairs).toBe(100);
    const outDir = fresh('badcol-out');
    const count = epochCounter();
    const e = await rejection(auditPairs({ data: input, outDir, config: AUDIT, callbacks: count.callbacks }));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain('metadata_1.parquet');
    expect(e.message).toContain('--no-copy');
    expect(count.epochs()).toBe(0);
    expect(readdirSync(outDir).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('8: unreadable inputs, too few pairs, damaged checkpoints and a 1 TB array are cleave errors', async () => {
    const folder = fresh('inputs');
    const manifest = await writeSyntheticManifest(folder, { images: 40 });
    const raw = JSON.parse(readFileSync(manifest, 'utf8'));
    const withImages = (images: string) => {
      writeFileSync(manifest, JSON.stringify({ ...raw, images }));
      return loadPairs(manifest);
    };
    const missing = await rejection(withImages('nope.npy'));
    expect(missing).toBeInstanceOf(DataError);
    expect(missing.message).toMatch(/nope\.npy: not found/);
    mkdirSync(join(folder, 'dir.npy'));
    const dir = await rejection(withImages('dir.npy'));
    expect(dir).toBeInstanceOf(DataError);
    expect(dir.message).toMatch(/dir\.npy: is a folder, expected a file/);

    const one = syntheticPairs({ images: 10 }).withSplits({ train: { images: Int32Array.of(0) } });
    const few = await rejection(new Trainer({ ...SMALL, ...RUN }).fit(one));
    expect(few).toBeInstanceOf(DataError);
    expect(few.message).toMatch(/1 training pair; training needs at least 2/);

    // checkpoints: a truncated latest.json, a truncated optimizer.bin
    const outDir = fresh('damaged');
    await trainAndReport({ data: MYNTRA, outDir, config: RUN, checkpoint: true, plots: false });
    const cp = join(outDir, 'checkpoints');
    const resume = () =>
      trainAndReport({ data: MYNTRA, outDir, config: { ...RUN, epochs: 4 }, resume: true });
    const latest = readFileSync(join(cp, 'latest.json'), 'utf8');
    writeFileSync(join(cp, 'latest.json'), latest.slice(0, 10));
    const e1 = await rejection(resume());
    expect(e1).toBeInstanceOf(DataError);
    expect(e1.message).toMatch(/latest\.json: cannot read .*damaged/);
    writeFileSync(join(cp, 'latest.json'), latest);
    const opt = join(cp, 'epoch-0003', 'net-0', 'optimizer.bin');
    truncateSync(opt, Math.floor(readFileSync(opt).length / 2));
    const e2 = await rejection(resume());
    expect(e2).toBeInstanceOf(DataError);
    expect(e2.message).toContain('optimizer.bin');

    // an honest 1 TB .npy (a sparse file): too big for one buffer
    const big = join(folder, 'big.npy');
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (268435456, 1024), }";
    const line = `${header.padEnd(117)}\n`;
    const head = Buffer.concat([
      Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, line.length & 0xff, line.length >> 8]),
      Buffer.from(line),
    ]);
    writeFileSync(big, head);
    truncateSync(big, head.length + 2 ** 40);
    const e3 = await rejection(readNpy(big));
    expect(e3).toBeInstanceOf(DataError);
    expect(e3.message).toMatch(/big\.npy: needs 1024\.0 GiB in one buffer/);
  });

  it('9: a missing captionToImage file is "not found"; NaN checkpoint weights name the checkpoint file', async () => {
    const folder = fresh('c2i');
    const manifest = await writeSyntheticManifest(folder, { images: 40 });
    const raw = JSON.parse(readFileSync(manifest, 'utf8'));
    writeFileSync(manifest, JSON.stringify({ ...raw, captionToImage: 'map.json' }));
    const e = await rejection(loadPairs(manifest));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toMatch(/map\.json: not found/);
    expect(e.message).not.toContain('JSON');

    const outDir = fresh('nan');
    await trainAndReport({ data: MYNTRA, outDir, config: RUN, checkpoint: true, plots: false });
    const weights = join(outDir, 'checkpoints', 'epoch-0003', 'net-0', 'weights.bin');
    const bytes = readFileSync(weights);
    bytes.writeFloatLE(Number.NaN, 0);
    writeFileSync(weights, bytes);
    const nan = await rejection(
      trainAndReport({ data: MYNTRA, outDir, config: { ...RUN, epochs: 4 }, resume: true }),
    );
    expect(nan).toBeInstanceOf(DataError);
    expect(nan.message).toContain(join('epoch-0003', 'net-0', 'weights.bin'));
    expect(nan.message).toMatch(/is NaN/);
  });

  it('10: resuming after the last epoch keeps the figures; --resume without a checkpoint warns; latest.json stays inside', async () => {
    const outDir = fresh('resume');
    await trainAndReport({ data: MYNTRA, outDir, config: RUN, checkpoint: true });
    const { report } = await trainAndReport({ data: MYNTRA, outDir, config: RUN, resume: true });
    expect(report.files.mixtureSvg).toBe('mixture.svg');
    expect(existsSync(join(outDir, 'mixture.svg'))).toBe(true);
    expect(report.training.epochs).toBe(3);

    const empty = fresh('resume-empty');
    const started = await trainAndReport({
      data: MYNTRA,
      outDir: empty,
      config: RUN,
      resume: true,
      plots: false,
    });
    expect(
      started.report.warnings?.some((w) => /--resume: no checkpoint in .* started from epoch 0/.test(w)),
    ).toBe(true);

    writeFileSync(join(outDir, 'checkpoints', 'latest.json'), JSON.stringify({ epoch: 2, path: '../../x' }));
    const e = await rejection(trainAndReport({ data: MYNTRA, outDir, config: RUN, resume: true }));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toMatch(/latest\.json: "path" is "\.\.\/\.\.\/x"/);
  });

  it('11: csv metadata shards, stale temporary files, tiny test splits, newlines, "3" and unknown options', async () => {
    // metadata_*.csv is refused, not silently ignored
    const input = fresh('csvmeta');
    await writeScrapedFolder(input, { n: 40, rate: 0.2 });
    writeFileSync(join(input, 'metadata', 'metadata_2.csv'), 'caption\nx\n');
    const e1 = await rejection(loadClipRetrievalFolder(input));
    expect(e1).toBeInstanceOf(DataError);
    expect(e1.message).toMatch(/metadata_2\.csv: metadata shards must be Parquet/);

    // the temporary files of a killed writer are cleared by the next run into the folder
    const outDir = fresh('tmpfiles');
    mkdirSync(join(outDir, 'checkpoints', 'epoch-0001'), { recursive: true });
    const dead = 2 ** 22 + 12345; // above the default pid_max: no such process
    const debris = [
      join(outDir, `.report.json.${dead}.0123abcd.tmp`),
      join(outDir, 'checkpoints', 'epoch-0001', `.state.json.${dead}.deadbeef.tmp`),
    ];
    for (const d of debris) writeFileSync(d, 'half');
    writeFileSync(join(outDir, '.mine.tmp'), 'mine');
    const { report } = await trainAndReport({ data: MYNTRA, outDir, config: RUN, plots: false });
    for (const d of debris) expect(existsSync(d)).toBe(false);
    expect(existsSync(join(outDir, '.mine.tmp'))).toBe(true);
    // 20 test pairs: the report warns
    expect(report.warnings?.some((w) => /only 20 test pairs \(fewer than 100\)/.test(w))).toBe(true);

    // a caption with a line break stays on its table row
    const table = markdownTable(['id', 'caption'], [['1', 'two\nlines | and a pipe']], ['l', 'l']);
    expect(table.trimEnd().split('\n')).toHaveLength(3);
    expect(table).toContain('two lines \\| and a pipe');

    // captionToImage "3" and an unknown loadPairs option
    const folder = fresh('strict');
    const manifest = await writeSyntheticManifest(folder, { images: 40 });
    const raw = JSON.parse(readFileSync(manifest, 'utf8'));
    writeFileSync(manifest, JSON.stringify({ ...raw, captionToImage: '3' }));
    const e2 = await rejection(loadPairs(manifest));
    expect(e2).toBeInstanceOf(ConfigError);
    expect(e2.message).toMatch(/captionToImage: expected null .* or a file of image indices/);
    writeFileSync(manifest, JSON.stringify(raw));
    const e3 = await rejection(loadPairs(manifest, { bogus: 1 } as never));
    expect(e3).toBeInstanceOf(ConfigError);
    expect(e3.message).toMatch(/loadPairs options is not valid:[\s\S]*bogus/);
    expect(e3).toBeInstanceOf(CleaveError);
  });
});
