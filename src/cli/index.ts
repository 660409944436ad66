/**
 * `cleave/cli`: the `cleave` command as a function, for scripts that drive it in-process.
 *
 * @example
 * ```ts
 * import { runCli } from 'cleave/cli';
 * ```
 *
 * @module cleave/cli
 */
export { describeCliError, runCli } from './program.js';
