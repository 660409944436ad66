/**
 * `npm run bench -- <suite> [--json] [suite options]`: runs one benchmark suite and prints its result.
 *
 * Each suite is a module `experiments/bench/<suite>.ts` exporting
 * `run(args: string[]): Promise<unknown>`; the result is printed as one JSON object with `--json`,
 * or pretty-printed otherwise. Suites compare cleave against a reference measured in the same run
 * (ratios, not absolute times, are what carry across machines).
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const suites = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();

const [suite, ...rest] = process.argv.slice(2);
if (!suite || suite === '--help' || !suites.includes(suite)) {
  const msg = `usage: npm run bench -- <suite> [--json] [options]\nsuites: ${suites.join(', ') || '(none yet)'}`;
  if (suite && suite !== '--help') {
    console.error(`unknown benchmark suite '${suite}'\n${msg}`);
    process.exit(2);
  }
  console.log(msg);
  process.exit(0);
}

const mod = (await import(`./${suite}.ts`)) as { run: (args: string[]) => Promise<unknown> };
const result = await mod.run(rest);
console.log(rest.includes('--json') ? JSON.stringify(result) : JSON.stringify(result, null, 2));
