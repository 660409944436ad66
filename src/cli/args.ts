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
