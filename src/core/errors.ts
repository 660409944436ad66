/**
 * Error types of cleave. Every error says *where* (file, field, index) and *what to fix*.
 *
 * - {@link DataError}: bad input data (NaN/Inf, wrong shape, truncated file, index out of range).
 * - {@link ConfigError}: an options object or config file that does not validate.
 * - {@link BackendError}: a compute backend that was asked for and cannot start.
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

/** An options object or config file that does not validate. */
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
