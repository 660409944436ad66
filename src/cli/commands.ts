/**
 * The list of `cleave` subcommands, in the order `--help` shows them. A new subcommand is a file
 * `src/cli/<name>.ts` exporting a {@link CliCommand}, added here.
 */

import { auditCommand } from './audit.js';
import { benchDataCommand } from './bench-data.js';
import type { CliCommand } from './context.js';
import { evalCommand } from './eval.js';
import { infoCommand } from './info.js';
import { reportCommand } from './report.js';
import { scoreCommand } from './score.js';
import { trainCommand } from './train.js';

export const commands: CliCommand[] = [
  infoCommand,
  trainCommand,
  auditCommand,
  evalCommand,
  scoreCommand,
  reportCommand,
  benchDataCommand,
];
