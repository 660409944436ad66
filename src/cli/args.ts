/**
 * Argument parsers shared by the `cleave` subcommands (commander `argParser`s): each rejects a bad
 * value with a message that says what is expected.
 *
 * @example
 * ```ts
 * new Option('--seed <n>', 'random seed').argParser(integerArg);
 * ```
 */
import { InvalidArgumentError } from 'commander';

/**
 * An integer (negative allowed).
 *
 * @example
 * ```ts
 * integerArg('-3');   // -3; integerArg('2.5') throws
 * ```
 */
export function integerArg(value: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('expected an integer');
  return n;
}

/**
 * A positive integer.
 *
 * @example
 * ```ts
 * positiveIntegerArg('20');   // 20; positiveIntegerArg('0') throws
 * ```
 */
export function positiveIntegerArg(value: string): number {
  const n = integerArg(value);
  if (n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/**
 * A non-negative integer.
 *
 * @example
 * ```ts
 * nonNegativeIntegerArg('0');   // 0; nonNegativeIntegerArg('-1') throws
 * ```
 */
export function nonNegativeIntegerArg(value: string): number {
  const n = integerArg(value);
  if (n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

/**
 * `--shared-space`: `auto`, `yes` or `no`, as the trainer config's `sharedSpace`.
 *
 * @example
 * ```ts
 * sharedSpaceArg('no');   // false; sharedSpaceArg('maybe') throws
 * ```
 */
export function sharedSpaceArg(value: string): 'auto' | boolean {
  if (value === 'auto') return 'auto';
  if (value === 'yes' || value === 'no') return value === 'yes';
  throw new InvalidArgumentError("expected 'auto', 'yes' or 'no'");
}

/**
 * A number in [0, 1].
 *
 * @example
 * ```ts
 * unitArg('0.5');   // 0.5; unitArg('1.5') throws
 * ```
 */
export function unitArg(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidArgumentError('expected a number from 0 to 1');
  }
  return n;
}
