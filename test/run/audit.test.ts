/**
 * The audit on a clip-retrieval folder of "scraped" pairs written by the test (two npy shards, one of
 * them float16, plus Parquet metadata) in which 30 % of the captions were moved to other images: the
 * ranking must put the moved pairs first (AUC well above chance), every file must be readable and
 * consistent, the cleaned copy must load back with its metadata, and the input must stay untouched.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClipRetrievalFolder } from '../../src/core/io/clip-retrieval.js';
import { readCsv } from '../../src/core/io/csv.js';
import { readNpy } from '../../src/core/io/npy.js';
import { injectNoise } from '../../src/noise/inject.js';
import {
  type AuditRow,
  type AuditSummary,
  auditPairs,
  noiseRateInterval,
  suspicionOrder,
} from '../../src/run/audit.js';
import { readClipMetadata } from '../../src/run/clip-folder.js';
import { scoreWithSavedModel } from '../../src/run/reuse.js';
import { openInChromium } from './browser.js';
import { SMALL, syntheticPairs, tempDir, useCpu, writeScrapedFolder } from './helpers.js';

const tmp = tempDir('cleave-audit-');
beforeAll(useCpu);
afterAll(tmp.cleanup);

/** Hash of every file under a folder (path → sha256). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[p] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** Share of (mismatched, clean) pairs in which the mismatched one is ranked more suspicious. */
function rankAuc(rows: AuditRow[], noisy: Uint8Array): number {
  let wins = 0;
  let total = 0;
  for (const a of rows) {
    if (!noisy[a.pair]) continue;
    for (const b of rows) {
      if (noisy[b.pair]) continue;
      total++;
      if (a.rank < b.rank) wins++;
    }
  }
  return wins / total;
}

describe('auditPairs on a scraped clip-retrieval folder', () => {
  it('ranks injected mismatches first and writes consistent, readable files; the input is untouched', async () => {
    const input = join(tmp.dir, 'scraped');
    const { noisy, ids } = await writeScrapedFolder(input, { n: 160, rate: 0.3, shared: true });
    const before = snapshot(input);
    const outDir = join(tmp.dir, 'audit');
    const { summary, rows } = await auditPairs({
      data: input,
      outDir,
      config: { ...SMALL, epochs: 6, warmupEpochs: 4, split: { folds: 3, foldEpochs: 12 } },
      formats: ['csv', 'parquet', 'jsonl'],
      threshold: 0.5,
    });
    expect(snapshot(input)).toEqual(before);

    expect(rankAuc(rows, noisy)).toBeGreaterThan(0.8);
    expect(rows.map((r) => r.rank)).toEqual(rows.map((_, k) => k + 1));
    for (let k = 1; k < rows.length; k++) expect(rows[k]!.pClean).toBeGreaterThanOrEqual(rows[k - 1]!.pClean);
    expect(new Set(rows.map((r) => r.pair)).size).toBe(160);
    const mean = rows.reduce((a, r) => a + (1 - r.pClean), 0) / rows.length;
    expect(summary.estimatedNoiseRate).toBeCloseTo(mean, 12);
    const [lo, hi] = summary.estimatedNoiseRateInterval;
    expect(lo).toBeLessThan(summary.estimatedNoiseRate);
    expect(hi).toBeGreaterThan(summary.estimatedNoiseRate);
    expect(summary.kept + summary.removed).toBe(160);
    expect(summary.kept).toBe(rows.filter((r) => r.pClean > 0.5).length);
    expect(rows.every((r) => r.uncertainty !== null && r.uncertainty > 0)).toBe(true);
    // uncertainty relative to the median pair: the median row reads 1
    const u = rows.map((r) => r.uncertainty!).sort((a, b) => a - b);
    expect(0.5 * (u[79]! + u[80]!)).toBeCloseTo(1, 12);
    expect(summary.uncertaintyMedian).toBeGreaterThan(0);
    // the input cosine of a shared space: cos(image, caption) of the given embeddings
    expect(summary.sharedSpace.shared).toBe(true);
    const original = await loadClipRetrievalFolder(input);
    const r7 = rows[7]!;
    const a = original.imageRow(r7.pair);
    const b = original.captionRow(r7.pair);
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let t = 0; t < a.length; t++) {
      ab += a[t]! * b[t]!;
      aa += a[t]! * a[t]!;
      bb += b[t]! * b[t]!;
    }
    expect(r7.inputCosine).toBeCloseTo(ab / Math.sqrt(aa * bb), 5);

    // CSV: the rows in order, with ids, captions (quotes and commas survive) and urls from the metadata
    const csv = await readCsv(join(outDir, 'pairs.csv'));
    expect(csv.header).toEqual([
      'rank',
      'pair',
      'id',
      'p_clean',
      'input_cosine',
      'learned_loss',
      'uncertainty',
      'loss',
      'kept',
      'caption',
      'url',
    ]);
    expect(csv.rows).toHaveLength(160);
    const first = rows[0]!;
    expect(csv.rows[0]).toEqual([
      '1',
      String(first.pair),
      ids[first.pair],
      String(first.pClean),
      String(first.inputCosine),
      String(first.learnedLoss),
      String(first.uncertainty),
      String(first.loss),
      String(first.kept),
      `caption number ${first.pair}, "quoted", with a comma`,
      `https://example.org/img/${first.pair}.jpg`,
    ]);

    // Parquet and JSONL hold the same rows
    const parquet = await parquetReadObjects({
      file: await asyncBufferFromFile(join(outDir, 'pairs.parquet')),
    });
    expect(parquet).toHaveLength(160);
    expect(parquet.map((r) => r.pair)).toEqual(rows.map((r) => r.pair));
    expect(parquet[5]).toMatchObject({
      id: rows[5]!.id,
      p_clean: rows[5]!.pClean,
      input_cosine: rows[5]!.inputCosine,
      kept: rows[5]!.kept,
    });
    const jsonl = readFileSync(join(outDir, 'pairs.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(jsonl.map((r) => r.caption)).toEqual(parquet.map((r) => r.caption));

    // the cleaned subset: ids, indices and a clip-retrieval copy that loads back with its metadata
    const keptIds = readFileSync(join(outDir, 'kept-ids.txt'), 'utf8').trim().split('\n');
    const kept = Array.from((await readNpy(join(outDir, 'kept.npy'))).data as Int32Array);
    const expected = rows
      .filter((r) => r.kept)
      .map((r) => r.pair)
      .sort((a, b) => a - b);
    expect(kept).toEqual(expected);
    expect(keptIds).toEqual(expected.map((j) => ids[j]));
    const removedIds = readFileSync(join(outDir, 'removed-ids.txt'), 'utf8').trim().split('\n');
    expect(removedIds).toHaveLength(summary.removed);
    const cleaned = await loadClipRetrievalFolder(join(outDir, 'cleaned'));
    expect(cleaned.numPairs).toBe(kept.length);
    const k = Math.floor(kept.length / 2);
    expect(Array.from(cleaned.captionRow(k))).toEqual(Array.from(original.captionRow(kept[k]!)));
    expect(Array.from(cleaned.imageRow(k))).toEqual(Array.from(original.imageRow(kept[k]!)));
    expect(cleaned.captionText(k)).toBe(original.captionText(kept[k]!));
    const meta = await readClipMetadata(join(outDir, 'cleaned'));
    expect(meta!.rows[k]).toMatchObject({ key: ids[kept[k]!], width: 100 + kept[k]! }); // all columns, INT32 kept
    // the input's shard layout: one output shard per input shard, same names and dtypes
    for (const sub of ['img_emb', 'text_emb', 'metadata']) {
      expect(readdirSync(join(outDir, 'cleaned', sub)).sort()).toEqual(readdirSync(join(input, sub)).sort());
    }
    const shard0 = await readNpy(join(outDir, 'cleaned', 'img_emb', 'img_emb_0.npy'));
    const shard1 = await readNpy(join(outDir, 'cleaned', 'text_emb', 'text_emb_1.npy'));
    expect([shard0.dtype, shard1.dtype]).toEqual(['float16', 'float32']);
    expect(shard0.shape[0]).toBe(kept.filter((j) => j < 80).length);
    expect(shard1.shape[0]).toBe(kept.filter((j) => j >= 80).length);
    expect(shard0.shape[0]).toBeGreaterThan(0);
    expect(shard1.shape[0]).toBeGreaterThan(0);

    const written = JSON.parse(readFileSync(join(outDir, 'audit.json'), 'utf8')) as AuditSummary;
    expect(written).toMatchObject({
      pairs: 160,
      method: 'refurb',
      sourceKind: 'clip-retrieval',
      threshold: 0.5,
    });
    for (const f of ['mixture.png', 'posterior.png']) {
      expect(readFileSync(join(outDir, f)).subarray(0, 4).toString('latin1')).toBe('\x89PNG');
    }
    expect(written.inputCosineAuc).toBeUndefined(); // no known truth in a scraped folder

    // report.html in a real browser: every pair a row, the counts of the summary, no console message
    expect(written.files.report).toBe('report.html');
    const seen = openInChromium(join(outDir, 'report.html'));
    expect(seen.console).toEqual([]);
    expect(seen.dom).toContain('data-ready="1"');
    expect((seen.dom.match(/<tr class="(kept|removed)"/g) ?? []).length).toBe(160);
    expect(seen.dom).toContain(`kept ${summary.kept}, removed ${summary.removed} of 160 pairs`);
    expect(seen.dom).toContain('<th data-col="input_cosine"');
    expect(seen.screenshot.length).toBeGreaterThan(10_000);

    // the audit folder is a model for `cleave score`: its own pairs give back their P(clean) exactly
    const again = await scoreWithSavedModel({ model: outDir, data: input });
    expect(again.scoredBy).toBe('training-pairs');
    const byPair = new Float64Array(160);
    for (const r of rows) byPair[r.pair] = r.pClean;
    expect(Array.from(again.pClean)).toEqual(Array.from(byPair));
    expect(again.ids).toEqual(ids);
  });

  it('with a known truth (data carrying injected noise): noisy.npy, the reliability diagram, truth in the report', async () => {
    const noisy = injectNoise(syntheticPairs({ images: 80 }).withSplits({}), {
      rate: 0.3,
      kind: 'shuffle',
      seed: 4,
    });
    const outDir = join(tmp.dir, 'audit-truth');
    const { summary } = await auditPairs({
      data: noisy.dataset,
      outDir,
      config: { ...SMALL, epochs: 3, warmupEpochs: 2, split: { folds: 2, foldEpochs: 2 } },
    });
    expect(summary.truth?.trueNoiseRate).toBeCloseTo(0.3, 2);
    expect(Array.from((await readNpy(join(outDir, 'noisy.npy'))).data as Uint8Array)).toEqual(
      Array.from(noisy.noisy),
    );
    expect(readFileSync(join(outDir, 'calibration.svg'), 'utf8')).toContain(
      `ECE ${summary.truth!.ece.toFixed(3)}`,
    );
    const html = readFileSync(join(outDir, 'report.html'), 'utf8');
    expect(html).toContain('reliability of P(clean) against the truth');
    expect(html).toContain('"noisy"');
    expect(summary.sharedSpace.shared).toBe(false); // 12-d images, 10-d captions
    expect(summary.inputCosineAuc).toBeUndefined();
  });

  it('refuses an output folder inside the input before training', async () => {
    const input = join(tmp.dir, 'scraped2');
    await writeScrapedFolder(input, { n: 40 });
    const before = snapshot(input);
    await expect(auditPairs({ data: input, outDir: join(input, 'out') })).rejects.toThrow(
      /inside the input folder/,
    );
    await expect(
      auditPairs({ data: input, outDir: join(tmp.dir, 'x'), method: 'vse' as 'refurb' }),
    ).rejects.toThrow(/method/);
    await expect(
      auditPairs({ data: input, outDir: join(tmp.dir, 'x'), config: { epochs: 4, warmupEpochs: 4 } }),
    ).rejects.toThrow(/epochs \(4\) must exceed warmupEpochs/);
    expect(snapshot(input)).toEqual(before);
  });
});

describe('noiseRateInterval', () => {
  it('is a point for constant P(clean), and matches the normal interval of a mean for many pairs', () => {
    expect(noiseRateInterval(new Float64Array(50).fill(0.8), 1)).toEqual([
      expect.closeTo(0.2, 12),
      expect.closeTo(0.2, 12),
    ]);
    const n = 4000;
    const p = Float64Array.from({ length: n }, (_, j) => (j % 4 === 0 ? 0 : 1)); // noise 0.25, sd 0.433
    const [lo, hi] = noiseRateInterval(p, 3);
    const half = (1.96 * Math.sqrt(0.25 * 0.75)) / Math.sqrt(n);
    expect(lo).toBeCloseTo(0.25 - half, 2);
    expect(hi).toBeCloseTo(0.25 + half, 2);
    expect(hi - lo).toBeGreaterThan(1.6 * half);
    expect(hi - lo).toBeLessThan(2.4 * half);
  });
});

describe('suspicionOrder', () => {
  it('sorts by P(clean) ascending, then loss descending, then index', () => {
    const p = [0.9, 0.1, 0.1, 0.5, 0.1];
    const loss = [0, 2, 3, 1, 3];
    expect(Array.from(suspicionOrder(p, loss))).toEqual([2, 4, 1, 3, 0]);
  });
});
