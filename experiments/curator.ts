/**
 * `npm run exp:curator`: the curator's pipeline on real CLIP pairs with known truth. For each rate, the
 * bundled `myntra-fashionclip-1000` pairs (Marqo-FashionCLIP image and title embeddings, one shared
 * space) are written as a clip-retrieval folder (two float16 shards, Parquet metadata with caption, url
 * and key) in which that share of the captions was swapped among themselves; `cleave audit` (its
 * defaults) then ranks the pairs. Measured against the truth:
 *
 * - ROC-AUC of the audit's ranking vs of the plain input cosine (the CLIP-score filter);
 * - the estimated noise rate (mean of 1 − P(clean)) and its bootstrap interval vs the true rate;
 * - precision and recall of the pairs removed at P(clean) ≤ 0.5.
 *
 * Writes `results.md` and `results.json` into `--results` (default `experiments/results/curator`), and
 * keeps each run's audit folder (with `report.html`) under `--out` (default `runs/curator`).
 *
 * @example
 * ```bash
 * npm run build && npm run exp:curator
 * npm run exp:curator -- --rates 0.3 --seed 1
 * ```
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundledDataset, initBackend, injectNoise, loadPairs } from 'cleave';
import { inputCosines, rocAuc } from 'cleave/eval';
import { auditPairs, clipShardLayout, markdownTable, writeClipRetrievalFolder } from 'cleave/run';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '0.1,0.3,0.5' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: join('runs', 'curator') },
    results: { type: 'string', default: join('experiments', 'results', 'curator') },
    data: { type: 'string', default: 'myntra-fashionclip-1000' },
  },
});
const rates = values.rates.split(',').map(Number);
const seed = Number(values.seed);
await initBackend();
const data = (await loadPairs(bundledDataset(values.data as 'myntra-fashionclip-1000'))).withSplits({});
const rows: Record<string, number | string>[] = [];
for (const rate of rates) {
  const dir = join(values.out, `rate-${rate}`);
  const scraped = join(dir, 'scraped');
  await rm(dir, { recursive: true, force: true });
  const noisy = injectNoise(data, { rate, kind: 'shuffle', seed });
  const half = Math.floor(data.numPairs / 2);
  // two float16 shards, as clip-retrieval writes them
  await writeClipRetrievalFolder(scraped, noisy.dataset, {
    shards: [
      { id: 0, rows: half, dtype: 'float16' },
      { id: 1, rows: data.numPairs - half, dtype: 'float16' },
    ],
  });
  const started = performance.now();
  const { summary, rows: ranking } = await auditPairs({ data: scraped, outDir: join(dir, 'audit'), seed });
  const seconds = (performance.now() - started) / 1000;
  const truth = noisy.noisy;
  const suspicion = new Float64Array(ranking.length);
  for (const r of ranking) suspicion[r.pair] = ranking.length - r.rank;
  const cos = inputCosines(noisy.dataset);
  let removedNoisy = 0;
  let removed = 0;
  let noisyCount = 0;
  for (const r of ranking) {
    if (truth[r.pair]) noisyCount++;
    if (!r.kept) {
      removed++;
      if (truth[r.pair]) removedNoisy++;
    }
  }
  const shards = await clipShardLayout(join(dir, 'audit', 'cleaned'));
  rows.push({
    rate,
    trueRate: noisyCount / ranking.length,
    auditAuc: rocAuc(suspicion, truth),
    inputCosineAuc: rocAuc(
      cos.map((c) => -c),
      truth,
    ),
    estimatedNoiseRate: summary.estimatedNoiseRate,
    interval: summary.estimatedNoiseRateInterval.map((v) => v.toFixed(3)).join('–'),
    removed,
    precision: removed ? removedNoisy / removed : Number.NaN,
    recall: noisyCount ? removedNoisy / noisyCount : Number.NaN,
    cleanedShards: shards.map((s) => `${s.id}:${s.rows}:${s.dtype}`).join(' '),
    seconds,
  });
  console.log(JSON.stringify(rows.at(-1)));
}
const f = (v: unknown, d = 3) => (typeof v === 'number' ? v.toFixed(d) : String(v));
const table = markdownTable(
  [
    'swapped',
    'audit AUC',
    'input-cosine AUC',
    'est. noise',
    '95 % interval',
    'true noise',
    'removed',
    'precision',
    'recall',
    's',
  ],
  rows.map((r) => [
    `${100 * Number(r.rate)} %`,
    f(r.auditAuc),
    f(r.inputCosineAuc),
    f(r.estimatedNoiseRate),
    String(r.interval),
    f(r.trueRate),
    String(r.removed),
    f(r.precision),
    f(r.recall),
    f(r.seconds, 0),
  ]),
  ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
);
await mkdir(values.results, { recursive: true });
await writeFile(
  join(values.results, 'results.json'),
  `${JSON.stringify({ data: values.data, seed, rows }, null, 2)}\n`,
);
await writeFile(
  join(values.results, 'results.md'),
  `# The curator's pipeline on ${values.data} (seed ${seed})\n\n` +
    'A clip-retrieval folder (2 float16 shards + Parquet metadata) of the bundled pairs with that share of captions swapped; `cleave audit` with its defaults. AUC: ROC-AUC at finding the swapped pairs (audit: its ranking; input cosine: −cos of the given embeddings, the CLIP-score filter). Removed: P(clean) ≤ 0.5; precision and recall of the removed pairs against the truth.\n\n' +
    `Command: \`npm run build && npm run exp:curator -- --rates ${values.rates} --seed ${seed}\`\n\n${table}\n`,
);
console.log(table);
