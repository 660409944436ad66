/**
 * `npm run demo` (= `npm run exp:demo`): the main job on the bundled real data, in a minute or two on a
 * laptop CPU. For each dataset (default: 1000 CLIP-embedded Myntra products, the Wikipedia cross-modal
 * set and the CUB subset) it shuffles
 * 50 % of the training captions (caption-level noise, NCR's protocol), trains `refurb` (the full
 * pipeline) and `vse` (no noise handling) with the dataset's recommended settings, prints a table
 * (test rSum, R@1/5/10 both ways, split AUC against the truth; on CLIP features also the zero-shot
 * baseline, the inputs' own cosine, on the same pairs) and writes each run's folder (report,
 * model, posteriors, the mixture figure) under `runs/demo/<dataset>/<method>/`.
 *
 * Options: `--data <list of manifests|bundled names>` `--rate 0.5` `--kind shuffle|shuffle-images|hard`
 * `--epochs N` (default: the dataset's recommendation, else the trainer's 40) `--seed 7`
 * `--methods refurb,vse` `--out runs/demo`. Logs: `CLEAVE_LOG_LEVEL=warn` quiets them.
 *
 * @example
 * ```bash
 * npm run demo
 * npm run demo -- --data cub-googlenet-doc2vec --rate 0.4 --epochs 30
 * ```
 */
import { basename, join } from 'node:path';
import { getLogger, initBackend } from 'cleave';
import { writeFileAtomic } from 'cleave/io';
import {
  RUN_METHODS,
  type RunMethod,
  type RunReport,
  reportsTable,
  setProgressScope,
  trainAndReport,
} from 'cleave/run';
import { Command, Option } from 'commander';

const program = new Command('demo')
  .option(
    '--data <list>',
    'dataset manifests or bundled names, comma-separated',
    'myntra-fashionclip-1000,wikipedia-xmodal,cub-googlenet-doc2vec',
  )
  .option('--rate <r>', 'share of training captions to shuffle', Number, 0.5)
  .addOption(
    new Option('--kind <kind>', 'noise kind')
      .choices(['shuffle', 'shuffle-images', 'hard'])
      .default('shuffle'),
  )
  .option('--epochs <n>', 'epochs per method, warm-up included (default: the dataset recommendation)', Number)
  .option('--seed <n>', 'seed of the noise and the training', Number, 7)
  .option('--methods <list>', 'methods, comma-separated', 'refurb,vse')
  .option('--out <dir>', 'output folder', 'runs/demo')
  .parse();
const opts = program.opts<{
  data: string;
  rate: number;
  kind: 'shuffle' | 'shuffle-images' | 'hard';
  epochs?: number;
  seed: number;
  methods: string;
  out: string;
}>();
const methods = opts.methods.split(',').map((m) => m.trim()) as RunMethod[];
for (const m of methods) {
  if (!(RUN_METHODS as readonly string[]).includes(m))
    program.error(`unknown method '${m}' (use ${RUN_METHODS.join(', ')})`);
}

const log = getLogger('demo');
const backend = await initBackend();
const started = performance.now();
const sections: string[] = [];
const figures: string[] = [];
for (const data of opts.data.split(',').map((d) => d.trim())) {
  const runs: { label: string; report: RunReport }[] = [];
  const dir = join(opts.out, basename(data).replace(/\.json$/, ''));
  for (const method of methods) {
    setProgressScope(`${basename(data)} ${method}`);
    const { report, outDir } = await trainAndReport({
      data,
      noise: { rate: opts.rate, kind: opts.kind, seed: opts.seed },
      method,
      seed: opts.seed,
      config: opts.epochs ? { epochs: opts.epochs } : {},
      outDir: join(dir, method),
    });
    setProgressScope(undefined);
    log.info({ data, method, rsum: report.test.rsum, splitAuc: report.split?.auc, outDir }, 'run finished');
    runs.push({ label: method, report });
  }
  const first = runs[0]!.report;
  const epochs = runs.map((r) => `${r.label} ${r.report.training.epochs}`).join(', ');
  sections.push(
    `## ${first.dataset.name}\n\n${opts.rate * 100}% ${first.protocol} noise (${opts.kind}, seed ${opts.seed}); ` +
      `${first.dataset.splits.test?.pairs ?? '?'} test pairs; epochs: ${epochs}\n\n${reportsTable(runs)}`,
  );
  const figure = runs.find((r) => r.report.files.mixturePng);
  if (figure) figures.push(join(dir, figure.label, figure.report.files.mixturePng!));
}
const seconds = (performance.now() - started) / 1000;
const text = `# Demo (backend ${backend.name})\n\n${sections.join('\n\n')}`;
await writeFileAtomic(join(opts.out, 'results.md'), text);
console.log(`\n${text}`);
for (const f of figures) console.log(`mixture figure: ${f}`);
console.log(
  `runs written to ${opts.out}/ (report.json, model, posteriors.npy per run) in ${seconds.toFixed(0)} s`,
);
