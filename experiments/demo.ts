/**
 * `npm run demo` (= `npm run exp:demo`): the main job on bundled real data, in a minute or two on a
 * laptop CPU. Loads the Wikipedia cross-modal dataset, shuffles 50 % of the training captions
 * (caption-level noise, NCR's protocol), trains `refurb` (the full pipeline) and `vse` (no noise
 * handling) briefly, prints a table (test rSum, R@1/5/10 both ways, split AUC against the truth) and
 * writes each run's folder (report, model, posteriors, the mixture figure) under `runs/demo/`.
 *
 * Options: `--data <manifest|bundled name>` `--rate 0.5` `--kind shuffle|shuffle-images|hard`
 * `--epochs 20` `--seed 7` `--methods refurb,vse` `--out runs/demo`. Logs: `CLEAVE_LOG_LEVEL=warn` quiets them.
 *
 * @example
 * ```bash
 * npm run demo
 * npm run demo -- --data cub-googlenet-doc2vec --rate 0.4 --epochs 30
 * ```
 */
import { join } from 'node:path';
import {
  getLogger,
  initBackend,
  RUN_METHODS,
  type RunMethod,
  type RunReport,
  reportsTable,
  setProgressScope,
  trainAndReport,
  writeFileAtomic,
} from 'cleave';
import { Command, Option } from 'commander';

const program = new Command('demo')
  .option('--data <source>', 'dataset manifest or bundled name', 'wikipedia-xmodal')
  .option('--rate <r>', 'share of training captions to shuffle', Number, 0.5)
  .addOption(
    new Option('--kind <kind>', 'noise kind')
      .choices(['shuffle', 'shuffle-images', 'hard'])
      .default('shuffle'),
  )
  .option('--epochs <n>', 'epochs per method (warm-up included)', Number, 20)
  .option('--seed <n>', 'seed of the noise and the training', Number, 7)
  .option('--methods <list>', 'methods, comma-separated', 'refurb,vse')
  .option('--out <dir>', 'output folder', 'runs/demo')
  .parse();
const opts = program.opts<{
  data: string;
  rate: number;
  kind: 'shuffle' | 'shuffle-images' | 'hard';
  epochs: number;
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
const runs: { label: string; report: RunReport }[] = [];
for (const method of methods) {
  setProgressScope(method);
  const { report, outDir } = await trainAndReport({
    data: opts.data,
    noise: { rate: opts.rate, kind: opts.kind, seed: opts.seed },
    method,
    seed: opts.seed,
    config: { epochs: opts.epochs },
    outDir: join(opts.out, method),
  });
  setProgressScope(undefined);
  log.info({ method, rsum: report.test.rsum, splitAuc: report.split?.auc, outDir }, 'run finished');
  runs.push({ label: method, report });
}
const table = reportsTable(runs);
const seconds = (performance.now() - started) / 1000;
const first = runs[0]!.report;
const header = `${first.dataset.name}: ${opts.rate * 100}% ${first.protocol} noise (${opts.kind}, seed ${opts.seed}), ${opts.epochs} epochs, backend ${backend.name}`;
await writeFileAtomic(join(opts.out, 'results.md'), `# Demo\n\n${header}\n\n${table}`);
const figure = runs.find((r) => r.report.files.mixturePng);
console.log(`\n${header}\n\n${table}`);
if (figure) console.log(`mixture figure: ${join(opts.out, figure.label, figure.report.files.mixturePng!)}`);
console.log(
  `runs written to ${opts.out}/ (report.json, model, posteriors.npy per method) in ${seconds.toFixed(0)} s`,
);
