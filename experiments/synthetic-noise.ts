/**
 * `npm run exp:synthetic-noise`: the grid the noisy-correspondence papers report — noise rates ×
 * protocols (caption-level `shuffle`, image-level `shuffle-images`) × methods (`cca`, `vse`,
 * `ncr-like`, `refurb`) × seeds — on any dataset. Resumable: run it again and only the missing (or
 * stale) cells are trained. Writes into `--out` (default `runs/synthetic-noise/<dataset>`):
 * `results.json`, `results.md` (with each method compared to `vse` seed by seed), `results.csv`,
 * `rsum-vs-noise.svg/.png`, `training-curves.svg/.png` and one folder per cell under `cells/`.
 *
 * Options (flags win over `--config`, which wins over the defaults):
 * `--data <manifest|bundled name|clip-retrieval folder>` (default wikipedia-xmodal),
 * `--rates 0,0.2,0.4,0.6,0.8`, `--kinds shuffle,shuffle-images`, `--methods cca,vse,ncr-like,refurb`
 * (add `oracle`, `vse` on the truly clean pairs only, for the headroom a perfect split would give),
 * `--seeds 0,1,2`, `--epochs N` (all trainer methods), `--config run.json` (trainer config shared by the
 * methods, `methods: { refurb: {...} }` per-method overrides, `cca`, `evalSplit`, `data`),
 * `--out <dir>`, `--backend <name>`, `--save-models`, `--no-plots`, `--max-cells N` (stop after N new cells).
 *
 * @example
 * ```bash
 * npm run exp:synthetic-noise -- --data wikipedia-xmodal --rates 0,0.5 --kinds shuffle --seeds 0 --epochs 10
 * npm run exp:synthetic-noise -- --data cub-googlenet-doc2vec --rates 0.5 --methods vse --config experiments/configs/plain-vse.json
 * ```
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BACKEND_NAMES, getLogger, initBackend } from 'cleave';
import {
  type GridNoiseKind,
  RUN_METHODS,
  type RunMethod,
  readRunFile,
  runGrid,
  writeGridOutputs,
} from 'cleave/run';
import { Command, InvalidArgumentError, Option } from 'commander';

const list =
  <T>(parse: (s: string) => T) =>
  (value: string): T[] =>
    value.split(',').map((s) => parse(s.trim()));
const number = (s: string) => {
  const n = Number(s);
  if (s === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`'${s}' is not a number`);
  return n;
};
const oneOf =
  <T extends string>(allowed: readonly T[]) =>
  (s: string): T => {
    if (!(allowed as readonly string[]).includes(s))
      throw new InvalidArgumentError(`'${s}': use ${allowed.join(', ')}`);
    return s as T;
  };

const program = new Command('synthetic-noise')
  .option(
    '--data <source>',
    'dataset manifest, clip-retrieval folder or bundled name (default: wikipedia-xmodal)',
  )
  .option('--rates <list>', 'noise rates', list(number))
  .option('--kinds <list>', 'noise kinds', list(oneOf(['shuffle', 'shuffle-images', 'hard'] as const)))
  .option('--methods <list>', 'methods', list(oneOf(RUN_METHODS)))
  .option('--seeds <list>', 'seeds', list(number))
  .option('--epochs <n>', 'epochs of every trainer method', number)
  .option('--config <run.json>', 'run file: trainer config, methods.<m> overrides, cca, evalSplit, data')
  .option('--out <dir>', 'output folder (default: runs/synthetic-noise/<dataset>)')
  .addOption(new Option('--backend <name>', 'compute backend').choices(['auto', ...BACKEND_NAMES]))
  .option('--save-models', "keep every cell's model files")
  .option('--no-plots', 'no figures')
  .option('--max-cells <n>', 'stop after this many new cells', number)
  .parse();
const opts = program.opts<{
  data?: string;
  rates?: number[];
  kinds?: GridNoiseKind[];
  methods?: RunMethod[];
  seeds?: number[];
  epochs?: number;
  config?: string;
  out?: string;
  backend?: (typeof BACKEND_NAMES)[number] | 'auto';
  saveModels?: boolean;
  plots: boolean;
  maxCells?: number;
}>();

const log = getLogger('synthetic-noise');
const file = opts.config ? await readRunFile(opts.config) : undefined;
const data = opts.data ?? file?.run.data ?? 'wikipedia-xmodal';
const name = data
  .replace(/[/\\]+$/, '')
  .split(/[/\\]/)
  .pop()!
  .replace(/\.json$/, '');
const outDir = opts.out ?? file?.run.out ?? join('runs', 'synthetic-noise', name);
await initBackend(opts.backend ? { backend: opts.backend } : {});
const { method: _ignored, ...shared } = file?.trainer ?? {};
const config = { ...shared, ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}) };

const started = performance.now();
const grid = await runGrid({
  data,
  outDir,
  ...(opts.rates ? { rates: opts.rates } : {}),
  ...(opts.kinds ? { kinds: opts.kinds } : {}),
  ...(opts.methods ? { methods: opts.methods } : {}),
  ...(opts.seeds ? { seeds: opts.seeds } : {}),
  config,
  methodConfig: file?.run.methods ?? {},
  ...(file?.run.cca ? { cca: file.run.cca } : {}),
  ...(file?.run.evalSplit ? { evalSplit: file.run.evalSplit } : {}),
  saveModels: opts.saveModels ?? false,
  plots: opts.plots,
  ...(opts.maxCells !== undefined ? { maxCells: opts.maxCells } : {}),
  onCell: ({ cell, skipped, index, total }) => {
    const split = cell.split ? `, split AUC ${cell.split.auc.toFixed(3)}` : '';
    const what = skipped ? 'already done' : `${cell.seconds.toFixed(0)} s`;
    console.error(`[${index}/${total}] ${cell.key}: rSum ${cell.test.rsum.toFixed(1)}${split} (${what})`);
  },
});
const paths = await writeGridOutputs(grid, { plots: opts.plots });
const md = await readFile(paths.markdown, 'utf8');
console.log(md);
log.info({ outDir: grid.outDir, cells: grid.finished.length, pending: grid.pending.length }, 'grid written');
console.log(
  `${grid.finished.length} cells finished${grid.pending.length ? `, ${grid.pending.length} pending` : ''} in ${((performance.now() - started) / 1000).toFixed(0)} s; results in ${grid.outDir}`,
);
