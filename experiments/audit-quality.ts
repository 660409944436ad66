/**
 * `npm run exp:audit-quality`: how well `cleave audit` finds swapped captions in a clip-retrieval
 * folder, next to the CLIP-score filter every curator already has (the plain cosine of the given
 * embeddings). For each swap rate and seed it writes the bundled `myntra-fashionclip-1000` pairs as a
 * clip-retrieval folder with that share of captions swapped, audits it with the defaults, and records:
 * the ranking's ROC-AUC at finding the swapped pairs, the input cosine's AUC on the same pairs, the
 * estimated noise rate against the truth, and the precision and recall of the pairs removed at
 * P(clean) ≤ 0.5. Writes `<out>/audit-quality.md` and `.json`.
 *
 * Options: `--rates 0.1,0.3,0.5`, `--seeds 0,1,2`, `--data <bundled name>`, `--out runs/audit-quality`.
 *
 * @example
 * ```bash
 * npm run exp:audit-quality -- --rates 0.3 --seeds 0
 * ```
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  auditPairs,
  bundledDataset,
  initBackend,
  injectNoise,
  inputCosines,
  loadPairs,
  markdownTable,
  rocAuc,
  writeClipRetrievalFolder,
  writeFileAtomic,
} from 'cleave';
import { Command } from 'commander';

const list = (v: string) => v.split(',').map((s) => Number(s.trim()));
const opts = new Command('audit-quality')
  .option('--rates <list>', 'shares of swapped captions', list, [0.1, 0.3, 0.5])
  .option('--seeds <list>', 'seeds', list, [0, 1, 2])
  .option('--data <name>', 'bundled dataset', 'myntra-fashionclip-1000')
  .option('--out <dir>', 'output folder', join('runs', 'audit-quality'))
  .parse()
  .opts<{ rates: number[]; seeds: number[]; data: string; out: string }>();

await initBackend();
const data = (await loadPairs(bundledDataset(opts.data))).withSplits({});
const rows: Record<string, number>[] = [];
for (const rate of opts.rates) {
  for (const seed of opts.seeds) {
    const started = performance.now();
    const noisy = injectNoise(data, { rate, kind: 'shuffle', seed });
    const dir = join(opts.out, `rate-${rate}-seed-${seed}`);
    const scraped = join(dir, 'scraped-pairs');
    await rm(dir, { recursive: true, force: true });
    await writeClipRetrievalFolder(scraped, noisy.dataset);
    const { summary, rows: ranked } = await auditPairs({
      data: scraped,
      outDir: join(dir, 'audit'),
      seed,
      formats: ['csv'],
    });
    const truth = noisy.noisy;
    const suspicion = new Float64Array(ranked.length);
    for (const r of ranked) suspicion[r.pair] = ranked.length - r.rank;
    const cos = inputCosines(noisy.dataset);
    let tp = 0;
    let removed = 0;
    let noisyCount = 0;
    for (const r of ranked) {
      if (!r.kept) {
        removed++;
        if (truth[r.pair]) tp++;
      }
    }
    for (const t of truth) noisyCount += t;
    const row = {
      rate,
      seed,
      trueNoise: noisyCount / truth.length,
      estimatedNoise: summary.estimatedNoiseRate,
      auditAuc: rocAuc(suspicion, truth),
      cosineAuc: rocAuc(
        cos.map((c) => -c),
        truth,
      ),
      precision: removed ? tp / removed : 0,
      recall: noisyCount ? tp / noisyCount : 0,
      seconds: (performance.now() - started) / 1000,
    };
    rows.push(row);
    console.error(JSON.stringify(row));
  }
}
const f = (v: number, d = 3) => v.toFixed(d);
const table = markdownTable(
  [
    'swapped',
    'seed',
    'true noise',
    'estimated',
    'audit AUC',
    'input-cosine AUC',
    'precision @0.5',
    'recall @0.5',
  ],
  rows.map((r) => [
    `${100 * r.rate!} %`,
    String(r.seed),
    f(r.trueNoise!),
    f(r.estimatedNoise!),
    f(r.auditAuc!, 4),
    f(r.cosineAuc!, 4),
    f(r.precision!),
    f(r.recall!),
  ]),
);
const text = `# Audit quality on ${opts.data} (clip-retrieval folders with swapped captions)\n\nCommand: \`npm run exp:audit-quality${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\`, defaults otherwise.\n\n${table}\n`;
await writeFileAtomic(join(opts.out, 'audit-quality.md'), text);
await writeFileAtomic(join(opts.out, 'audit-quality.json'), `${JSON.stringify(rows, null, 2)}\n`);
console.log(text);
