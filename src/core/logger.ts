/**
 * Structured logging for cleave (pino), one root logger with named children.
 *
 * Logs go to **stderr** so that JSON printed on stdout (benchmarks, `cleave info --json`) stays clean.
 * The level comes from `CLEAVE_LOG_LEVEL` (`trace` … `fatal`, or `silent`); it defaults to `info`,
 * and to `silent` under vitest so test output stays quiet.
 *
 * @example
 * ```ts
 * import { getLogger, setLogLevel } from 'cleave';
 * setLogLevel('debug');
 * getLogger('mixture').debug({ iterations: 10 }, 'beta mixture fitted');
 * ```
 */
import { destination, type Level, type Logger, pino } from 'pino';

/** The levels accepted by {@link setLogLevel}. */
export type LogLevel = Level | 'silent';

let root: Logger | undefined;
const children = new Map<string, Logger>();

function defaultLevel(): LogLevel {
  const fromEnv = process.env.CLEAVE_LOG_LEVEL;
  if (fromEnv) return fromEnv as LogLevel;
  return process.env.VITEST ? 'silent' : 'info';
}

function rootLogger(): Logger {
  root ??= pino({ name: 'cleave', level: defaultLevel() }, destination(2));
  return root;
}

/**
 * The logger for one part of cleave (`getLogger('trainer')`), or the root logger without a name.
 * Children are cached, so calling this in a hot path is cheap.
 */
export function getLogger(name?: string): Logger {
  if (!name) return rootLogger();
  let child = children.get(name);
  if (!child) {
    child = rootLogger().child({ module: name });
    children.set(name, child);
  }
  return child;
}

/** Replace the root logger (e.g. to route cleave's logs into an application's own pino instance). */
export function setLogger(logger: Logger): void {
  root = logger;
  children.clear();
}

/** Change the level of the root logger and all its children. */
export function setLogLevel(level: LogLevel): void {
  const logger = rootLogger();
  logger.level = level;
  for (const child of children.values()) child.level = level;
}
