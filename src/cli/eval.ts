/**
 * `cleave eval --model DIR --data SRC [--split test] [--folds 5]`: evaluate a saved model (the `--out`
 * of `cleave train` or `cleave audit`) on one split of a dataset, loaded as `cleave train` loads it (the
 * same seeded test split when the data has none), so it reproduces the run's test metrics exactly (see
 * `evaluateSavedModel`).
 *
 * @example
 * ```bash
 * cleave eval --model runs/wiki --data wikipedia-xmodal
 * cleave eval --model runs/wiki --data wikipedia-xmodal --split val --folds 5 --json
 * ```
 */
import { Option } from 'commander';
import { evaluateSavedModel } from '../run/reuse.js';
import { markdownTable } from '../run/table.js';
import { positiveIntegerArg } from './args.js';
import type { CliCommand } from './context.js';

export const evalCommand: CliCommand = {
  name: 'eval',
  register(program, ctx) {
    program
      .command('eval')
      .description('evaluate a saved model on a split (retrieval recalls, class mAP)')
      .requiredOption('--model <dir>', 'model folder (the --out of cleave train or cleave audit)')
      .requiredOption('--data <source>', 'dataset manifest (.json), clip-retrieval folder, or bundled name')
      .option('--split <name>', 'split to evaluate on', 'test')
      .addOption(
        new Option('--folds <n>', '"1K" protocol: images in n folds, mean reported').argParser(
          positiveIntegerArg,
        ),
      )
      .option('--json', 'print the test section as JSON (the shape of report.json "test")')
      .action(
        async (opts: { model: string; data: string; split: string; folds?: number; json?: boolean }) => {
          await ctx.backend();
          const test = await evaluateSavedModel({
            model: opts.model,
            data: opts.data,
            split: opts.split,
            ...(opts.folds !== undefined ? { folds: opts.folds } : {}),
          });
          if (opts.json) {
            ctx.print(test);
            return;
          }
          const f = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(1));
          const rows = [
            ['image → text', f(test.i2t.r1), f(test.i2t.r5), f(test.i2t.r10), String(test.i2t.medianRank)],
            ['text → image', f(test.t2i.r1), f(test.t2i.r5), f(test.t2i.r10), String(test.t2i.medianRank)],
          ];
          const map = test.classMAP
            ? `\nclass mAP: image → text ${test.classMAP.i2t.mapAll.toFixed(3)}, text → image ${test.classMAP.t2i.mapAll.toFixed(3)}`
            : '';
          ctx.print(
            [
              `${opts.split} split of ${opts.data}: ${test.images} images, ${test.captions} captions (scoring: ${test.scoring})`,
              markdownTable(['direction', 'R@1', 'R@5', 'R@10', 'median rank'], rows, [
                'l',
                'r',
                'r',
                'r',
                'r',
              ]),
              `rSum ${f(test.rsum)}${map}`,
            ].join('\n'),
          );
        },
      );
  },
};
