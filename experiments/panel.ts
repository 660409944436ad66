/**
 * `npm run exp:panel`: the method against what a user would do instead, on every bundled panel dataset
 * with the defaults (no per-dataset tuning beyond what each manifest recommends; the CLIP manifests
 * recommend nothing). For each dataset it runs the synthetic-noise grid (caption-level noise at
 * 0/20/50/80 %, image-level too where images have several captions; methods `zero-shot` where the
 * inputs share a space, `vse`, `oracle`, `ncr-like`, `refurb`; seeds 0–9 by default), writes each grid's
 * usual outputs under `<out>/<dataset>/`, then `<out>/panel.md` and `panel.json`: per dataset and noise
 * level, the mean test rSum of every method, `refurb` minus the best of `vse` and `zero-shot`, the
 * seeds where `refurb` is more than 2 rSum behind `zero-shot`, `refurb`'s share of the clean-trained
 * rSum, and `refurb`'s split AUC next to the raw input cosine's (the CLIP-score filter) on the same pairs.
 *
 * Resumable like every grid: run it again and only missing or stale cells are trained.
 *
 * Options: `--datasets a,b` (default myntra-fashionclip-1000,cub-googlenet-doc2vec,wikipedia-xmodal,
 * flickr8k-clip-100x5), `--rates`, `--methods`, `--seeds 0,1,…`, `--out` (default runs/panel),
 * `--backend`, `--config run.json` (a run file's trainer config and `methods.<m>` overrides, for every
 * dataset: the panel of a changed default before it becomes the default).
 *
 * @example
 * ```bash
 * npm run exp:panel -- --datasets myntra-fashionclip-1000 --seeds 0,1,2
 * ```
 */
import { join } from 'node:path';
import { BACKEND_NAMES, bundledDataset, initBackend } from 'cleave';
import { detectSharedSpace } from 'cleave/eval';
import { loadPairs, writeFileAtomic } from 'cleave/io';
import {
  type GridCell,
  type GridNoiseKind,
  gridCells,
  RUN_METHODS,
  type RunMethod,
  readRunFile,
  runGrid,
  writeGridOutputs,
} from 'cleave/run';
import { Command, Option } from 'commander';

const list = (value: string) => value.split(',').map((s) => s.trim());
const program = new Command('panel')
  .option('--datasets <list>', 'bundled dataset names', list)
  .option('--rates <list>', 'noise rates', (v) => list(v).map(Number))
  .option('--methods <list>', 'methods', list)
  .option('--seeds <list>', 'seeds', (v) => list(v).map(Number))
  .option('--out <dir>', 'output folder', join('runs', 'panel'))
  .addOption(new Option('--backend <name>', 'compute backend').choices(['auto', ...BACKEND_NAMES]))
  .option('--config <run.json>', 'run file: trainer config and methods.<m> overrides for every dataset')
  .parse();
const opts = program.opts<{
  datasets?: string[];
  rates?: number[];
  methods?: string[];
  seeds?: number[];
  out: string;
  backend?: (typeof BACKEND_NAMES)[number] | 'auto';
  config?: string;
}>();
const file = opts.config ? await readRunFile(opts.config) : undefined;
const { method: _ignored, ...sharedConfig } = file?.trainer ?? {};

const datasets = opts.datasets ?? [
  'myntra-fashionclip-1000',
  'cub-googlenet-doc2vec',
  'wikipedia-xmodal',
  'flickr8k-clip-100x5',
];
const rates = opts.rates ?? [0, 0.2, 0.5, 0.8];
const methods = (opts.methods ?? ['zero-shot', 'vse', 'oracle', 'ncr-like', 'refurb']) as RunMethod[];
for (const m of methods) {
  if (!(RUN_METHODS as readonly string[]).includes(m)) throw new Error(`--methods: unknown method '${m}'`);
}
const seeds = opts.seeds ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
await initBackend(opts.backend ? { backend: opts.backend } : {});

interface PanelRow {
  dataset: string;
  kind: GridNoiseKind | null;
  rate: number;
  seeds: number;
  /** Mean test rSum per method. */
  rsum: Record<string, number>;
  /** refurb − max(vse, zero-shot), on the means. */
  refurbVsBest: number | null;
  /** Seeds where refurb is more than 2 rSum behind zero-shot. */
  seedsBehindZeroShot: number[];
  /** refurb's mean rSum as a share of clean-trained vse's. */
  shareOfClean: number | null;
  /** Mean split AUC of refurb and of the raw input cosine on the same pairs; seeds where refurb's is lower. */
  refurbAuc: number | null;
  inputCosineAuc: number | null;
  seedsAucBelowCosine: number[];
}

const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN);

function panelRows(dataset: string, cells: GridCell[]): PanelRow[] {
  const rows: PanelRow[] = [];
  const levels = new Map<string, { kind: GridNoiseKind | null; rate: number }>();
  for (const c of cells) levels.set(`${c.kind}|${c.rate}`, { kind: c.kind, rate: c.rate });
  const cleanVse = mean(cells.filter((c) => c.rate === 0 && c.method === 'vse').map((c) => c.test.rsum));
  for (const { kind, rate } of [...levels.values()].sort((a, b) => a.rate - b.rate)) {
    const at = cells.filter((c) => c.kind === kind && c.rate === rate);
    const by = (m: string) => new Map(at.filter((c) => c.method === m).map((c) => [c.seed, c] as const));
    const rsum: Record<string, number> = {};
    for (const m of methods) {
      const v = [...by(m).values()].map((c) => c.test.rsum);
      if (v.length) rsum[m] = mean(v);
    }
    const refurb = by('refurb');
    const zs = by('zero-shot');
    const behind = [...refurb]
      .filter(([s, c]) => zs.has(s) && c.test.rsum < zs.get(s)!.test.rsum - 2)
      .map(([s]) => s);
    const baselines = ['vse', 'zero-shot'].filter((m) => m in rsum).map((m) => rsum[m]!);
    const aucs = [...refurb.values()].filter((c) => c.split && c.zeroShot?.splitAuc != null);
    rows.push({
      dataset,
      kind,
      rate,
      seeds: refurb.size,
      rsum,
      refurbVsBest: 'refurb' in rsum && baselines.length ? rsum.refurb! - Math.max(...baselines) : null,
      seedsBehindZeroShot: behind,
      shareOfClean: 'refurb' in rsum && Number.isFinite(cleanVse) ? rsum.refurb! / cleanVse : null,
      refurbAuc: aucs.length ? mean(aucs.map((c) => c.split!.auc)) : null,
      inputCosineAuc: aucs.length ? mean(aucs.map((c) => c.zeroShot!.splitAuc!)) : null,
      seedsAucBelowCosine: aucs.filter((c) => c.split!.auc < c.zeroShot!.splitAuc!).map((c) => c.seed),
    });
  }
  return rows;
}

const all: PanelRow[] = [];
for (const name of datasets) {
  const data = await loadPairs(bundledDataset(name));
  const multiCaption = data.numCaptions > data.numImages;
  const kinds: GridNoiseKind[] = multiCaption ? ['shuffle', 'shuffle-images'] : ['shuffle'];
  const shared = detectSharedSpace(data.train).shared;
  console.error(`== ${name}: ${shared ? 'shared space' : 'separate spaces'}, noise ${kinds.join(' + ')}`);
  const grid = await runGrid({
    data: name,
    outDir: join(opts.out, name),
    rates,
    kinds,
    methods,
    seeds,
    config: sharedConfig,
    methodConfig: file?.run.methods ?? {},
    plots: true,
    onCell: ({ cell, skipped, index, total }) => {
      const what = skipped ? 'already done' : `${cell.seconds.toFixed(0)} s`;
      console.error(`[${index}/${total}] ${cell.key}: rSum ${cell.test.rsum.toFixed(1)} (${what})`);
    },
  });
  await writeGridOutputs(grid, { plots: true });
  all.push(...panelRows(name, gridCells(grid)));
}

const f = (v: number | null | undefined, d = 1) => (v == null || !Number.isFinite(v) ? '—' : v.toFixed(d));
const shown = methods.filter((m) => all.some((r) => m in r.rsum));
const header = [
  'dataset',
  'noise',
  ...shown.map((m) => `\`${m}\``),
  'refurb − best of vse/zero-shot',
  'seeds > 2 behind zero-shot',
  'refurb / clean vse',
  'split AUC refurb / input cosine (seeds below)',
];
const lines = [
  `# Panel: ${datasets.join(', ')}`,
  '',
  `Seeds ${seeds.join(',')}; mean test rSum per method. Command: \`npm run exp:panel${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\`.`,
  '',
  `| ${header.join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...all
    .map((r) =>
      [
        r.dataset,
        r.rate === 0
          ? 'clean'
          : `${r.rate * 100} % ${r.kind === 'shuffle-images' ? 'image-level' : 'caption-level'}`,
        ...shown.map((m) => f(r.rsum[m])),
        f(r.refurbVsBest),
        r.seedsBehindZeroShot.length ? r.seedsBehindZeroShot.join(',') : 'none',
        r.shareOfClean === null ? '—' : `${(100 * r.shareOfClean).toFixed(1)} %`,
        r.refurbAuc === null
          ? '—'
          : `${f(r.refurbAuc, 4)} / ${f(r.inputCosineAuc, 4)} (${r.seedsAucBelowCosine.length ? r.seedsAucBelowCosine.join(',') : 'none'})`,
      ].join(' | '),
    )
    .map((l) => `| ${l} |`),
  '',
];
await writeFileAtomic(join(opts.out, 'panel.md'), lines.join('\n'));
await writeFileAtomic(join(opts.out, 'panel.json'), `${JSON.stringify(all, null, 2)}\n`);
console.log(lines.join('\n'));
