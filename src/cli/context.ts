/**
 * What every `cleave` subcommand gets: the global options, and one way to start the backend and to
 * print results. Subcommands live in their own files (`src/cli/<command>.ts`) and are listed once in
 * `src/cli/commands.ts`.
 *
 * @example
 * ```ts
 * // src/cli/train.ts
 * export const trainCommand: CliCommand = {
 *   name: 'train',
 *   register(program, ctx) {
 *     program.command('train').description('train a model').action(async () => {
 *       const backend = await ctx.backend();
 *       ctx.print({ backend: backend.name });
 *     });
 *   },
 * };
 * ```
 */
import type { Command } from 'commander';
import { type BackendChoice, type BackendInfo, initBackend } from '../core/backend/index.js';

/** The options every subcommand accepts (before or after the subcommand name). */
export interface GlobalOptions {
  backend?: BackendChoice;
  logLevel?: string;
}

/** Shared services for subcommands. */
export interface CliContext {
  /** The global options as parsed. */
  globals(): GlobalOptions;
  /** Start the compute backend the user asked for (`--backend`, else `CLEAVE_BACKEND`, else auto). */
  backend(): Promise<BackendInfo>;
  /** Write a line (or a JSON value) to stdout. */
  print(value: unknown): void;
}

/** A subcommand: registers itself on the program. */
export interface CliCommand {
  name: string;
  register(program: Command, context: CliContext): void;
}

/** The context for a program (reads its global options when asked). */
export function createContext(program: Command, write: (text: string) => void): CliContext {
  const globals = () => program.opts<GlobalOptions>();
  return {
    globals,
    backend: () => initBackend({ backend: globals().backend }),
    print(value) {
      write(typeof value === 'string' ? `${value}\n` : `${JSON.stringify(value, null, 2)}\n`);
    },
  };
}
