/**
 * Error types of cleave. Every error says *where* (file, field, index) and *what to fix*.
 *
 * - {@link DataError}: bad input data (NaN/Inf, wrong shape, truncated file, index out of range).
 * - {@link ConfigError}: an options object, config file, environment variable or argument that does not
 *   validate, or a call the object's configuration does not support (a deterministic head asked for
 *   uncertainty, training dropout without an `rng`, a model used after `dispose()`).
 * - {@link BackendError}: a compute backend that was asked for and cannot start.
 * - {@link OutputError}: an output that cannot be written.
 * - {@link TrainingError}: training that diverged or collapsed.
 *
 * A plain `Error` whose message starts with `internal:` marks an invariant of cleave itself: reaching
 * it is a bug (the CLI says so and asks for a report).
 *
 * @example
 * ```ts
 * import { DataError } from 'cleave';
 * try { await loadPairs('manifest.json'); }
 * catch (e) { if (e instanceof DataError) console.error(e.file, e.index, e.message); }
 * ```
 */
import type { z } from 'zod';

/** Base class of every error cleave throws on purpose. */
export class CleaveError extends Error {
  override name = 'CleaveError';
}

/** Where in the data an error was found. */
export interface DataErrorLocation {
  /** The file (or logical source, e.g. `captions`) the bad value came from. */
  file?: string;
  /** The row/item index, when one item is at fault. */
  index?: number;
  /** The column/field, when known. */
  field?: string | number;
}

/**
 * Bad input data. The message starts with the location, e.g.
 * `images.npy: row 7, column 3 is NaN`.
 */
export class DataError extends CleaveError {
  override name = 'DataError';
  readonly file: string | undefined;
  readonly index: number | undefined;
  readonly field: string | number | undefined;

  constructor(message: string, location: DataErrorLocation = {}) {
    super(location.file ? `${location.file}: ${message}` : message);
    this.file = location.file;
    this.index = location.index;
    this.field = location.field;
  }
}

/**
 * An options object, config file, environment variable or argument that does not validate, or a call
 * that the object's configuration does not support. The message names the field (or variable, or
 * argument) and what to use instead; the CLI exits with 2.
 */
export class ConfigError extends CleaveError {
  override name = 'ConfigError';
  /** One entry per problem: `path` (e.g. `trainer.epochs`) and message. */
  readonly issues: { path: string; message: string }[];

  constructor(message: string, issues: { path: string; message: string }[] = []) {
    super(message);
    this.issues = issues;
  }
}

/** A compute backend that was asked for and cannot start; the message says how to fix it. */
export class BackendError extends CleaveError {
  override name = 'BackendError';
}

function issuePath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

/**
 * Validate `value` against a zod schema; on failure throw a {@link ConfigError} whose message names the
 * source and every offending path, e.g. `run.json: epochs: Too small: expected number to be >0`.
 *
 * @param schema the zod schema (its defaults are applied to the result)
 * @param value the untrusted input
 * @param source what to call the input in messages (a file name, or e.g. `BetaMixture options`)
 * @returns the parsed value, typed by the schema's output
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, source: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issuePath(issue.path),
    message: issue.message,
  }));
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
  throw new ConfigError(`${source} is not valid:\n${lines}`, issues);
}

/**
 * An output that cannot be written: the output folder is a file, lies under a file, is not writable, is a
 * system folder (`/proc`, `/sys`, `/dev`), or the disk is full. The message names the path and what to do.
 */
export class OutputError extends CleaveError {
  override name = 'OutputError';
  /** The path that could not be written. */
  readonly path: string;

  constructor(message: string, path: string) {
    super(message);
    this.path = path;
  }
}

/**
 * Training that went wrong in a way more epochs will not fix: a loss that is not finite, or a model
 * whose validation rSum stays at chance level (collapsed). The message names the epoch and what to
 * change; the CLI exits with {@link TrainingError.exitCode} (3) so scripts can tell it apart.
 */
export class TrainingError extends CleaveError {
  override name = 'TrainingError';
  /** The CLI's exit code for a training failure. */
  static readonly exitCode = 3;
  /** The epoch (0-based) at which training was stopped. */
  readonly epoch: number;

  constructor(message: string, epoch: number) {
    super(message);
    this.epoch = epoch;
  }
}

/**
 * A filesystem error (`ENOENT`, `EISDIR`, …) as a {@link DataError} naming the file and what to do;
 * anything else is returned unchanged.
 *
 * @param error what a `node:fs` call threw
 * @param file the file it was reading (default: the error's own `path`)
 * @example
 * ```ts
 * try { await readFile(p); } catch (e) { throw inputFileError(e, p); }
 * ```
 */
export function inputFileError(error: unknown, file?: string): unknown {
  if (error instanceof CleaveError) return error;
  const e = error as NodeJS.ErrnoException;
  const path = file ?? e?.path;
  if (!e || typeof e.code !== 'string' || !path) return error;
  const what: Record<string, string> = {
    ENOENT: 'not found: check the path (a manifest resolves paths against its own folder)',
    EISDIR: 'is a folder, expected a file: give the file inside it',
    ENOTDIR: 'a part of this path is a file, not a folder: check the path',
    EACCES: 'permission denied: make the file readable',
    EPERM: 'permission denied: make the file readable',
    ELOOP: 'too many symbolic links: check the path',
    EMFILE: 'too many open files: raise the limit (ulimit -n) and retry',
  };
  const message = what[e.code];
  return message ? new DataError(message, { file: path }) : error;
}
