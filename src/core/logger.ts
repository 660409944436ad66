/**
 * Structured logging for cleave (pino), one root logger with named children.
 *
 * Logs go to **stderr** so that JSON printed on stdout (benchmarks, `cleave info --json`) stays clean.
 * The level comes from `CLEAVE_LOG_LEVEL` (`trace` … `fatal`, or `silent`; any other value is a
 * `ConfigError` naming the variable, see {@link logLevelFromEnv}); it defaults to `info`, and to
 * `silent` under vitest so test output stays quiet.
 *
 * Two formats, same records:
 * - `pretty`: one short human line per record (`audit start  source=scraped/ pairs=1000`), warnings and
 *   errors marked; the line first clears a progress bar drawn on the same terminal line. While progress
 *   bars are shown (`progressEnabled()`), the trainer's per-epoch `epoch` records are left to the bar
 *   (they stay in `history.json`, and in the JSON format);
 * - `json`: pino's JSON lines (one object per line, for log collectors and `jq`).
 *
 * Which one: {@link setLogFormat} (the CLI's `--log-format`), else `CLEAVE_LOG_FORMAT`, else `pretty`
 * when stderr is a terminal and `json` when it is not (a pipe, a file, a CI log).
 *
 * @example
 * ```ts
 * import { getLogger, setLogFormat, setLogLevel } from 'cleave';
 * setLogLevel('debug');
 * setLogFormat('json');
 * getLogger('mixture').debug({ iterations: 10 }, 'beta mixture fitted');
 * ```
 */
import { destination, type Level, type Logger, pino } from 'pino';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { progressEnabled } from './progress.js';

/** Every {@link LogLevel}: pino's levels, and `silent`. */
export const LOG_LEVELS = [
  'trace',
  'debug',
  'info',
  'warn',
  'error',
  'fatal',
  'silent',
] as const satisfies readonly (Level | 'silent')[];
/** One of {@link LOG_LEVELS}. */
export const logLevelSchema = z.enum(LOG_LEVELS);
/** The levels accepted by {@link setLogLevel}. */
export type LogLevel = z.output<typeof logLevelSchema>;
/** Every {@link LogFormat}. */
export const LOG_FORMATS = ['pretty', 'json'] as const;
/** One of {@link LOG_FORMATS}. */
export const logFormatSchema = z.enum(LOG_FORMATS);
/** The formats accepted by {@link setLogFormat}. */
export type LogFormat = z.output<typeof logFormatSchema>;

let root: Logger | undefined;
const children = new Map<string, Logger>();
let format: LogFormat | undefined;

/**
 * The level `CLEAVE_LOG_LEVEL` asks for (case and surrounding spaces ignored), or `undefined` when it is
 * unset or empty.
 *
 * @throws ConfigError when the variable names no level; the message lists the allowed values
 * @example
 * ```ts
 * logLevelFromEnv({ CLEAVE_LOG_LEVEL: 'debug' });   // 'debug'
 * logLevelFromEnv({});                             // undefined
 * logLevelFromEnv({ CLEAVE_LOG_LEVEL: 'loud' });    // throws ConfigError
 * ```
 */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel | undefined {
  const raw = env.CLEAVE_LOG_LEVEL?.trim();
  if (!raw) return undefined;
  const parsed = logLevelSchema.safeParse(raw.toLowerCase());
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    `CLEAVE_LOG_LEVEL=${raw} is not a log level; use one of: ${LOG_LEVELS.join(', ')} (or unset it)`,
    [{ path: 'CLEAVE_LOG_LEVEL', message: `unknown log level '${raw}'` }],
  );
}

function defaultLevel(): LogLevel {
  return logLevelFromEnv() ?? (process.env.VITEST ? 'silent' : 'info');
}

/**
 * The format used when none was set: `CLEAVE_LOG_FORMAT` when it names one, else `pretty` on a
 * terminal (stderr is a TTY) and `json` otherwise.
 *
 * @example
 * ```ts
 * defaultLogFormat({ CLEAVE_LOG_FORMAT: 'json' }, true);   // 'json'
 * defaultLogFormat({}, false);                            // 'json' (piped or CI)
 * ```
 */
export function defaultLogFormat(
  env: NodeJS.ProcessEnv = process.env,
  tty = Boolean(process.stderr.isTTY),
): LogFormat {
  const fromEnv = env.CLEAVE_LOG_FORMAT?.trim().toLowerCase();
  if (fromEnv === 'pretty' || fromEnv === 'json') return fromEnv;
  return tty ? 'pretty' : 'json';
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'module', 'v']);

function prettyValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  if (Array.isArray(v) && v.length <= 8 && v.every((x) => typeof x === 'number')) {
    return v.length === 1 ? prettyValue(v[0]) : v.map(prettyValue).join(',');
  }
  if (typeof v === 'string') return /[\s=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/**
 * One pino JSON record as a short human line (no trailing newline): `[module] message  key=value …`,
 * prefixed `warn:` / `error:` for those levels; pid, host, time and null values are left out.
 *
 * @example
 * ```ts
 * prettyLogLine('{"level":30,"time":1,"module":"audit","msg":"audit done","kept":90,"estimatedNoiseRate":0.10234}');
 * // 'audit: audit done  kept=90 estimatedNoiseRate=0.1023'
 * ```
 */
export function prettyLogLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const level = typeof record.level === 'number' ? record.level : 30;
  const mark =
    level >= 40
      ? `${LEVEL_NAMES[level] ?? 'warn'}: `
      : level < 30
        ? `${LEVEL_NAMES[level] ?? 'debug'}: `
        : '';
  const where = typeof record.module === 'string' ? `${record.module}: ` : '';
  const fields = Object.entries(record)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== null && v !== undefined)
    .map(([k, v]) => `${k}=${prettyValue(v)}`)
    .join(' ');
  const msg = typeof record.msg === 'string' ? record.msg : '';
  return `${mark}${where}${msg}${fields ? `  ${fields}` : ''}`;
}

/** An info-level per-epoch record of the trainer, while a progress bar shows the epochs. */
function foldedIntoBar(line: string): boolean {
  if (!line.includes('"msg":"epoch"') || !progressEnabled()) return false;
  try {
    const r = JSON.parse(line) as { level?: number; module?: string; msg?: string };
    return r.msg === 'epoch' && r.module === 'trainer' && r.level === 30;
  } catch {
    return false;
  }
}

/** The root logger's sink: JSON lines to fd 2, or pretty lines (which first clear a progress bar line). */
function sink(): { write(line: string): void } {
  let json: ReturnType<typeof destination> | undefined;
  return {
    write(line: string) {
      if ((format ?? defaultLogFormat()) === 'json') {
        json ??= destination(2);
        json.write(line);
        return;
      }
      if (foldedIntoBar(line)) return;
      const clear = process.stderr.isTTY ? '\r\x1b[K' : '';
      process.stderr.write(`${clear}${prettyLogLine(line)}\n`);
    },
  };
}

function rootLogger(): Logger {
  root ??= pino({ name: 'cleave', level: defaultLevel() }, sink());
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

/**
 * Choose the format of cleave's own logger from now on (see the module documentation); `undefined`
 * goes back to the default rule. Has no effect on a logger installed with {@link setLogger}.
 *
 * @example
 * ```ts
 * setLogFormat('json');   // JSON lines even on a terminal
 * ```
 */
export function setLogFormat(value: LogFormat | undefined): void {
  format = value;
}
