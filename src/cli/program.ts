/**
 * The `cleave` command-line program (commander): global options, the subcommands from
 * `src/cli/commands.ts`, and one error policy ({@link describeCliError}): every error prints
 * `cleave: <message>` and no stack trace (commander's usage errors too). A cleave error exits 1 (2 for bad options, config or
 * environment variables, 3 when training diverged or collapsed); anything else is a bug in cleave: it
 * exits 1 with a second line asking for a report. The stack is printed only with `--log-level debug`
 * (or `trace`, or the same in `CLEAVE_LOG_LEVEL`) or `CLEAVE_DEBUG=1`.
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
  logLevelFromEnv,
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
    // usage errors read like every other error: `cleave: unknown option '--bogus'`
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'cleave: ')) })
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
 * What the CLI prints (to stderr) for an error that ended a command, and its exit code: `cleave:
 * <message>`; for an error that is not a {@link CleaveError} a second line saying it is a bug to
 * report; with `debug`, the stack trace after them.
 *
 * @param error what the command threw
 * @param debug whether to add the stack trace (`--log-level debug`, `CLEAVE_DEBUG=1`)
 * @example
 * ```ts
 * describeCliError(new ConfigError('run.json is not valid: …'), false);
 * // { text: 'cleave: run.json is not valid: …\n', code: 2 }
 * ```
 */
export function describeCliError(error: unknown, debug: boolean): { text: string; code: number } {
  const message = error instanceof Error ? error.message : String(error);
  const stack = debug && error instanceof Error && error.stack ? `${error.stack}\n` : '';
  if (error instanceof CleaveError) {
    const code =
      error instanceof TrainingError ? TrainingError.exitCode : error instanceof ConfigError ? 2 : 1;
    return { text: `cleave: ${message}\n${stack}`, code };
  }
  const name = error instanceof Error ? error.name : typeof error;
  const how = debug ? '' : '; rerun with --log-level debug (or CLEAVE_DEBUG=1) for the stack trace';
  return {
    text:
      `cleave: ${message}\n` +
      `cleave: this is an unexpected error (${name}), a bug in cleave: please report it with the command you ran${how}\n` +
      stack,
    code: 1,
  };
}

/** Whether the user asked for stack traces: `--log-level debug|trace`, the same in `CLEAVE_LOG_LEVEL`, or `CLEAVE_DEBUG=1`. */
function debugRequested(program: Command | undefined): boolean {
  const env = process.env.CLEAVE_DEBUG?.trim().toLowerCase();
  if (env && env !== '0' && env !== 'false') return true;
  const fromEnv = (() => {
    try {
      return logLevelFromEnv();
    } catch {
      return undefined;
    }
  })();
  const level = program?.opts<{ logLevel?: LogLevel }>().logLevel ?? fromEnv;
  return level === 'debug' || level === 'trace';
}

/**
 * Run the CLI on `argv` (as in `process.argv`) and return the exit code; never throws. Errors are
 * printed as {@link describeCliError} says.
 */
export async function runCli(argv: string[]): Promise<number> {
  let program: Command | undefined;
  try {
    // a bad CLEAVE_LOG_LEVEL is a ConfigError here, before anything logs
    logLevelFromEnv();
    program = buildProgram();
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    // commander has printed its message (a usage error, --help, --version)
    if (e instanceof CommanderError) return e.exitCode;
    const { text, code } = describeCliError(e, debugRequested(program));
    process.stderr.write(text);
    return code;
  }
}
