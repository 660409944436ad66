#!/usr/bin/env node
/**
 * The `cleave` executable (package.json `bin`). See `cleave --help`; the program lives in
 * `src/cli/program.ts`, each subcommand in `src/cli/<command>.ts`.
 *
 * The program is imported inside a `try`, so that an error while loading it (a broken install, a
 * compute library that does not load) also prints `cleave: <message>` rather than a stack trace; the
 * stack shows with `CLEAVE_DEBUG=1`.
 */
try {
  const { runCli } = await import('./cli/program.js');
  process.exitCode = await runCli(process.argv);
} catch (e) {
  const message = e instanceof Error ? e.message : String(e);
  const debug = Boolean(process.env.CLEAVE_DEBUG?.trim()) && process.env.CLEAVE_DEBUG !== '0';
  process.stderr.write(
    `cleave: ${message}\ncleave: cleave could not start: reinstall it (npm install), and report this if it persists${debug ? '' : '; set CLEAVE_DEBUG=1 for the stack trace'}\n`,
  );
  if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exitCode = 1;
}
