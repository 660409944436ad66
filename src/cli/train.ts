/**
 * `cleave train`: train on a dataset (optionally with injected synthetic noise), evaluate on its test
 * split, and write the model, `history.json`, `posteriors.npy`, the mixture figure and `report.json`
 * into `--out` (see `trainAndReport`).
 *
 * Options come from the flags, then `--config run.json` (a trainer config plus `data`, `noise`, `out`,
 * … — see `src/run/run-file.ts`), then the defaults; the trainer config is validated by the
 * trainer's schema and errors name the field.
 *
 * @example
 * ```bash
 * cleave train --data wikipedia-xmodal --noise-rate 0.5 --noise-kind shuffle --method refurb --seed 7 --out runs/wiki
 * cleave train --config run.json --seed 3 --json
 * ```
 */
import { Option } from 'commander';
import { NOISE_KINDS } from '../noise/kinds.js';
import { RUN_METHODS } from '../run/report.js';
import { readRunFile, type TrainFlags, trainOptionsFromFlags } from '../run/run-file.js';
import { reportsTable } from '../run/table.js';
import { trainAndReport } from '../run/train-and-report.js';
import { integerArg, nonNegativeIntegerArg, positiveIntegerArg, sharedSpaceArg, unitArg } from './args.js';
import type { CliCommand } from './context.js';

interface TrainCliOptions extends TrainFlags {
  config?: string;
  json?: boolean;
  model?: boolean;
}

export const trainCommand: CliCommand = {
  name: 'train',
  register(program, ctx) {
    program
      .command('train')
      .description('train on (optionally noised) pairs, evaluate on the test split, write model and report')
      .option(
        '--data <source>',
        'dataset manifest (.json), clip-retrieval folder, *_precomp folder, or bundled dataset name',
      )
      .addOption(new Option('--method <name>', 'method (default: refurb)').choices([...RUN_METHODS]))
      .addOption(new Option('--seed <n>', 'random seed (default: 0)').argParser(integerArg))
      .addOption(new Option('--epochs <n>', 'total epochs, warm-up included').argParser(positiveIntegerArg))
      .addOption(
        new Option('--warmup-epochs <n>', 'warm-up epochs (default: min(10, epochs / 4))').argParser(
          nonNegativeIntegerArg,
        ),
      )
      .addOption(
        new Option(
          '--shared-space <mode>',
          'image and caption vectors in one space: auto (detect), yes or no (default: auto)',
        ).argParser(sharedSpaceArg),
      )
      .addOption(
        new Option(
          '--noise-rate <r>',
          'inject synthetic noise into this share of the training pairs',
        ).argParser(unitArg),
      )
      .addOption(
        new Option(
          '--noise-kind <kind>',
          'shuffle (caption-level), shuffle-images (image-level), hard',
        ).choices([...NOISE_KINDS]),
      )
      .addOption(new Option('--noise-seed <n>', 'seed of the noise (default: --seed)').argParser(integerArg))
      .option(
        '--noise-file <path>',
        "noise index: replayed when it exists (NCR's .npy or cleave's .json), else the drawn noise is written there",
      )
      .addOption(
        new Option('--folds <n>', 'also report the fold protocol on the test split (5: NCR fold5)').argParser(
          positiveIntegerArg,
        ),
      )
      .option('--test-split <prefix>', 'test split of a *_precomp folder: test (default) or testall')
      .option(
        '--warmup-model <dir>',
        "reuse the warm-up saved in <dir> (NCR's warmup_model_path), or save this run's warm-up there",
      )
      .option('--out <dir>', 'output folder')
      .option('--config <run.json>', 'run file: trainer config plus data/noise/out (flags win)')
      .option('--checkpoint', 'checkpoint every epoch into <out>/checkpoints')
      .option('--resume', 'continue from the last checkpoint in <out>/checkpoints')
      .option('--no-model', 'do not write the model files')
      .option('--allow-split-overlap', 'accept train/val/test splits that share images (a report warning)')
      .option('--json', 'print the report as JSON')
      .action(async (opts: TrainCliOptions) => {
        const file = opts.config ? await readRunFile(opts.config) : undefined;
        const flags: TrainFlags = { ...opts };
        if (opts.model === false) flags.saveModel = false;
        const options = trainOptionsFromFlags(flags, file);
        await ctx.backend();
        const { report, outDir } = await trainAndReport(options);
        if (opts.json) {
          ctx.print(report);
          return;
        }
        const warnings = (report.warnings ?? []).map((w) => `warning: ${w}`);
        const html = report.files.html ? ` (browse it: ${outDir}/report.html)` : '';
        ctx.print(
          [reportsTable([{ label: report.method, report }]), ...warnings, `written to ${outDir}${html}`].join(
            '\n',
          ),
        );
      });
  },
};
