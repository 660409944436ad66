/**
 * The `cleave` command-line program (commander): global options, the subcommands from
 * `src/cli/commands.ts`, and one error policy — a cleave error prints `cleave: <message>` and exits 1
 * (2 for bad options or config, 3 when training diverged or collapsed), anything else also prints its
 * stack.
 *
 * @example
 * ```ts
 * const code = await runCli(['node', 'cleave', 'info', '--json']);
 * ```
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { BACKEND_CHOICES } from '../core/backend/index.js';
import { CleaveError, ConfigError, TrainingError } from '../core/errors.js';
import {
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
  setLogFormat,
  setLogLevel,
} from '../core/logger.js';
import { VERSION } from '../core/version.js';
import { commands } from './commands.js';
import { createContext } from './context.js';

/** Build the program (without parsing). */
export function buildProgram(write: (text: string) => void = (t) => process.stdout.write(t)): Command {
  const program = new Command('cleave')
    .description('Learn a shared image–text embedding from noisy pairs.')
    .version(VERSION, '-V, --version')
    .addOption(
      new Option('--backend <name>', 'compute backend (default: $CLEAVE_BACKEND, else auto)').choices([
        ...BACKEND_CHOICES,
      ]),
    )
    .addOption(
      new Option(
        '--log-level <level>',
        'log level on stderr (default: $CLEAVE_LOG_LEVEL, else info)',
      ).argParser((value) => {
        if (!(LOG_LEVELS as readonly string[]).includes(value)) {
          throw new InvalidArgumentError(`use one of ${LOG_LEVELS.join(', ')}`);
        }
        return value;
      }),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'log lines on stderr: pretty (default on a terminal) or json (default when stderr is not a terminal; also $CLEAVE_LOG_FORMAT)',
      ).choices([...LOG_FORMATS]),
    )
    .showHelpAfterError()
    // usage errors, --help and --version throw (and runCli returns their exit code) instead of ending
    // the process, so runCli can run in-process
    .exitOverride()
    .hook('preAction', (self) => {
      const { logLevel, logFormat } = self.opts<{ logLevel?: LogLevel; logFormat?: LogFormat }>();
      if (logLevel) setLogLevel(logLevel);
      if (logFormat) setLogFormat(logFormat);
    });
  const context = createContext(program, write);
  for (const command of commands) command.register(program, context);
  return program;
}

/**
 * Run the CLI on `argv` (as in `process.argv`) and return the exit code; never throws.
 */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    // commander has printed its message (a usage error, --help, --version)
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof CleaveError) {
      process.stderr.write(`cleave: ${e.message}\n`);
      if (e instanceof TrainingError) return TrainingError.exitCode;
      return e instanceof ConfigError ? 2 : 1;
    }
    process.stderr.write(
      `cleave: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    return 1;
  }
}
