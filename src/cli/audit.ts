/**
 * `cleave audit <pairs>`: rank pairs of unknown quality (a clip-retrieval embedding folder of scraped
 * pairs, or a manifest) most-suspicious-first, estimate the noise rate and write a cleaned subset
 * (see `auditPairs`). The input is never written; an output folder inside it is refused.
 *
 * @example
 * ```bash
 * cleave audit scraped-pairs/ --out audit/ --threshold 0.5
 * cleave audit data/manifest.json --out audit/ --method ncr-like --formats csv,jsonl --json
 * ```
 */
import { InvalidArgumentError, Option } from 'commander';
import { AUDIT_FORMATS, AUDIT_METHODS, type AuditFormat, auditPairs } from '../run/audit.js';
import { methodTrainerConfig, readRunFile } from '../run/run-file.js';
import { markdownTable } from '../run/table.js';
import { integerArg, positiveIntegerArg, unitArg } from './args.js';
import type { CliCommand } from './context.js';

interface AuditCliOptions {
  out: string;
  method?: (typeof AUDIT_METHODS)[number];
  seed?: number;
  epochs?: number;
  threshold: number;
  formats: AuditFormat[];
  config?: string;
  copy: boolean;
  json?: boolean;
}

function formatsArg(value: string): AuditFormat[] {
  const list = value.split(',').map((s) => s.trim());
  for (const f of list) {
    if (!(AUDIT_FORMATS as readonly string[]).includes(f))
      throw new InvalidArgumentError(`'${f}': use ${AUDIT_FORMATS.join(', ')}`);
  }
  return list as AuditFormat[];
}

export const auditCommand: CliCommand = {
  name: 'audit',
  register(program, ctx) {
    program
      .command('audit')
      .description('rank pairs most-suspicious-first, estimate the noise rate, write a cleaned subset')
      .argument(
        '<pairs>',
        'clip-retrieval embedding folder, dataset manifest (.json), or bundled dataset name',
      )
      .requiredOption('--out <dir>', 'output folder (not inside the input)')
      .addOption(new Option('--method <name>', 'method (default: refurb)').choices([...AUDIT_METHODS]))
      .addOption(new Option('--seed <n>', 'random seed (default: 0)').argParser(integerArg))
      .addOption(new Option('--epochs <n>', 'total epochs, warm-up included').argParser(positiveIntegerArg))
      .addOption(
        new Option('--threshold <p>', 'keep a pair iff P(clean) > p').argParser(unitArg).default(0.5),
      )
      .addOption(
        new Option('--formats <list>', 'ranking files: csv,parquet,jsonl')
          .argParser(formatsArg)
          .default(['csv', 'parquet']),
      )
      .option('--config <run.json>', 'trainer config (flags win)')
      .option('--no-copy', 'do not write the cleaned copy of a clip-retrieval folder')
      .option('--json', 'print the summary as JSON')
      .action(async (pairs: string, opts: AuditCliOptions) => {
        const file = opts.config ? await readRunFile(opts.config) : undefined;
        const fileMethod = file?.trainer.method;
        const method = opts.method ?? (fileMethod === 'ncr-like' ? 'ncr-like' : 'refurb');
        const config = methodTrainerConfig(
          file,
          method,
          opts.epochs !== undefined ? { epochs: opts.epochs } : {},
        );
        await ctx.backend();
        const { summary, rows, outDir } = await auditPairs({
          data: pairs,
          outDir: opts.out,
          method,
          config,
          ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
          threshold: opts.threshold,
          formats: opts.formats,
          filteredCopy: opts.copy,
        });
        if (opts.json) {
          ctx.print(summary);
          return;
        }
        const top = rows
          .slice(0, 10)
          .map((r) => [
            String(r.rank),
            r.id,
            r.pClean.toPrecision(3),
            r.loss.toFixed(3),
            (r.caption ?? '').slice(0, 60),
          ]);
        ctx.print(
          [
            `${summary.pairs} pairs, estimated noise rate ${(100 * summary.estimatedNoiseRate).toFixed(1)}% (95% interval ${summary.estimatedNoiseRateInterval.map((v) => (100 * v).toFixed(1)).join('–')}%); kept ${summary.kept}, removed ${summary.removed} (P(clean) ≤ ${summary.threshold})`,
            '',
            'most suspicious:',
            markdownTable(['rank', 'id', 'P(clean)', 'loss', 'caption'], top, ['r', 'l', 'r', 'r', 'l']),
            `written to ${outDir} (browse it: ${outDir}/report.html)`,
          ].join('\n'),
        );
      });
  },
};
