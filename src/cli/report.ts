/**
 * `cleave report <run-dir>`: (re)write `<run-dir>/report.html` from a run folder — the `--out` of
 * `cleave audit`, or of `cleave train` with a method that splits (see `writeHtmlReport`). The page is
 * self-contained: open it from disk, no server.
 *
 * @example
 * ```bash
 * cleave report audit/                  # audit/report.html
 * cleave report runs/wiki --max-rows 20000
 * ```
 */
import { Option } from 'commander';
import { writeHtmlReport } from '../run/html-report.js';
import { positiveIntegerArg } from './args.js';
import type { CliCommand } from './context.js';

export const reportCommand: CliCommand = {
  name: 'report',
  register(program, ctx) {
    program
      .command('report')
      .description('write report.html (figures, scores, a filterable table of pairs) for a run folder')
      .argument('<run-dir>', 'the --out folder of cleave audit or cleave train')
      .addOption(
        new Option('--max-rows <n>', 'most suspicious pairs in the table (default 5000)').argParser(
          positiveIntegerArg,
        ),
      )
      .action(async (runDir: string, opts: { maxRows?: number }) => {
        const path = await writeHtmlReport(
          runDir,
          opts.maxRows !== undefined ? { maxRows: opts.maxRows } : {},
        );
        ctx.print(`written ${path}`);
      });
  },
};
