#!/usr/bin/env node
/**
 * The `cleave` executable (package.json `bin`). See `cleave --help`; the program lives in
 * `src/cli/program.ts`, each subcommand in `src/cli/<command>.ts`.
 */
import { runCli } from './cli/program.js';

process.exitCode = await runCli(process.argv);
