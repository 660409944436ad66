/**
 * The list of `cleave` subcommands, in the order `--help` shows them. A new subcommand is a file
 * `src/cli/<name>.ts` exporting a {@link CliCommand}, added here.
 */
import type { CliCommand } from './context.js';
import { infoCommand } from './info.js';

export const commands: CliCommand[] = [infoCommand];
