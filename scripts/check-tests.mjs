#!/usr/bin/env node
// Fails when a test is focused or skipped (`it.only`, `describe.skip`, `test.todo`, …).
// Biome's noFocusedTests is off because it mistakes every `mixture.fit(` for Jasmine's focused `fit`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const pattern = /\b(it|test|describe|suite)\.(only|skip|todo|skipIf|runIf)\b/;
const hits = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.test\.[cm]?[jt]s$/.test(name)) {
      readFileSync(path, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (pattern.test(line)) hits.push(`${path}:${i + 1}: ${line.trim()}`);
        });
    }
  }
}
walk('test');
if (hits.length) {
  console.error(`focused or skipped tests are not allowed:\n${hits.join('\n')}`);
  process.exit(1);
}
