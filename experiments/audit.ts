/**
 * `npm run exp:audit`: audit pairs of unknown quality.
 *
 * - With arguments it is `cleave audit`: `npm run exp:audit -- <pairs> --out <dir> [--threshold 0.5]
 *   [--method refurb|ncr-like] [--formats csv,parquet,jsonl] [--config run.json]` (see `cleave audit --help`).
 * - Without arguments, a self-contained example: the bundled `myntra-fashionclip-99` pairs (FashionCLIP
 *   embeddings, captions, image URLs) are written as a clip-retrieval folder of "scraped" pairs in which
 *   20 % of the captions were swapped, then audited; it prints how well the ranking finds the swapped
 *   pairs (ROC-AUC) — the check one can only make when the truth is known.
 *
 * @example
 * ```bash
 * npm run exp:audit
 * npm run exp:audit -- my-laion-subset/ --out runs/audit-laion
 * ```
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { bundledDataset, initBackend, injectNoise, loadPairs } from 'cleave';
import { runCli } from 'cleave/cli';
import { rocAuc } from 'cleave/eval';
import { auditPairs, markdownTable, writeClipRetrievalFolder } from 'cleave/run';

const args = process.argv.slice(2);
if (args.length > 0) {
  process.exitCode = await runCli(['node', 'cleave', 'audit', ...args]);
} else {
  const out = join('runs', 'audit-example');
  const scraped = join(out, 'scraped-pairs');
  await initBackend();
  // the "scraped" folder: real pairs, 20 % of the captions swapped among themselves
  const data = await loadPairs(bundledDataset('myntra-fashionclip-99'));
  const noisy = injectNoise(data.withSplits({}), { rate: 0.2, kind: 'shuffle', seed: 1 });
  await rm(scraped, { recursive: true, force: true });
  await writeClipRetrievalFolder(scraped, noisy.dataset);
  const { summary, rows } = await auditPairs({
    data: scraped,
    outDir: join(out, 'audit'),
    config: { epochs: 30, warmupEpochs: 10, batchSize: 32 },
    formats: ['csv', 'parquet', 'jsonl'],
  });
  const suspicion = new Float64Array(rows.length);
  for (const r of rows) suspicion[r.pair] = rows.length - r.rank;
  const top = rows
    .slice(0, 8)
    .map((r) => [
      String(r.rank),
      r.pClean.toPrecision(2),
      noisy.noisy[r.pair] ? 'swapped' : 'clean',
      (r.caption ?? '').slice(0, 50),
    ]);
  console.log(markdownTable(['rank', 'P(clean)', 'truth', 'caption'], top, ['r', 'r', 'l', 'l']));
  const [lo, hi] = summary.estimatedNoiseRateInterval;
  const swapped = rows.filter((r) => noisy.noisy[r.pair]).length;
  const caught = rows.filter((r) => !r.kept && noisy.noisy[r.pair]).length;
  console.log(
    `${summary.pairs} pairs: estimated noise ${(100 * summary.estimatedNoiseRate).toFixed(0)}% (95% interval ${(100 * lo).toFixed(0)}–${(100 * hi).toFixed(0)}%; true ${(100 * noisy.summary.realisedRate).toFixed(0)}%); removed ${summary.removed}, of which ${caught} of the ${swapped} swapped; ranking ROC-AUC at finding the swapped pairs: ${rocAuc(suspicion, noisy.noisy).toFixed(3)}`,
  );
  console.log(
    `written to ${join(out, 'audit')} (report.html, pairs.csv/.parquet/.jsonl, audit.json, kept-ids.txt, cleaned/, figures)`,
  );
}
