/**
 * `cleave score --model DIR --data SRC [--out scores.csv]`: P(clean), the per-pair score and the
 * uncertainty of pairs under a saved model and its saved split (`split.json`, written by `cleave audit`
 * and by `cleave train` with refurb or ncr-like). The model's own training pairs give back their saved
 * P(clean) exactly; other pairs are scored by the model (see `scoreWithSavedModel`).
 *
 * @example
 * ```bash
 * cleave score --model audit/ --data new-scrape/ --out new-scrape-scores.csv
 * cleave score --model runs/wiki --data wikipedia-xmodal --split train --noise-index runs/wiki/noise-index.json --out s.jsonl
 * ```
 */
import { scoreWithSavedModel, writeSavedModelScores } from '../run/reuse.js';
import { unitArg } from './args.js';
import type { CliCommand } from './context.js';

interface ScoreCliOptions {
  model: string;
  data: string;
  split?: string;
  noiseIndex?: string;
  out?: string;
  threshold: number;
  json?: boolean;
}

export const scoreCommand: CliCommand = {
  name: 'score',
  register(program, ctx) {
    program
      .command('score')
      .description('P(clean), score and uncertainty of pairs under a saved model and its split')
      .requiredOption(
        '--model <dir>',
        'model folder with split.json (the --out of cleave audit or cleave train)',
      )
      .requiredOption('--data <source>', 'clip-retrieval folder, dataset manifest (.json), or bundled name')
      .option('--split <name>', 'score only this split (default: every pair)')
      .option('--noise-index <file>', "replay a train run's noise-index.json before scoring")
      .option('--out <file>', 'write one row per pair to a .csv or .jsonl file')
      .option('--threshold <p>', 'count pairs with P(clean) > p as kept', unitArg, 0.5)
      .option('--json', 'print the summary as JSON')
      .action(async (opts: ScoreCliOptions) => {
        await ctx.backend();
        const r = await scoreWithSavedModel({
          model: opts.model,
          data: opts.data,
          ...(opts.split ? { split: opts.split } : {}),
          ...(opts.noiseIndex ? { noiseIndex: opts.noiseIndex } : {}),
        });
        const written = opts.out ? await writeSavedModelScores(opts.out, r, opts.data) : undefined;
        let kept = 0;
        let implied = 0;
        for (const p of r.pClean) {
          if (p > opts.threshold) kept++;
          implied += 1 - p;
        }
        const summary = {
          pairs: r.pClean.length,
          scoredBy: r.scoredBy,
          estimatedNoiseRate: r.pClean.length ? implied / r.pClean.length : Number.NaN,
          threshold: opts.threshold,
          kept,
          removed: r.pClean.length - kept,
          ...(written ? { out: written } : {}),
        };
        if (opts.json) {
          ctx.print(summary);
          return;
        }
        ctx.print(
          [
            `${summary.pairs} pairs (${r.scoredBy === 'training-pairs' ? "the model's training pairs: their saved scores" : 'scored by the model'}), estimated noise rate ${(100 * summary.estimatedNoiseRate).toFixed(1)}%; kept ${kept}, removed ${summary.removed} (P(clean) ≤ ${opts.threshold})`,
            ...(written ? [`written to ${written}`] : []),
          ].join('\n'),
        );
      });
  },
};
