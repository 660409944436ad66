#!/usr/bin/env node
// The house rules of src/ (CONTRIBUTING.md, "Layers"), checked on every `npm run lint`:
// 1. layers read bottom-up: a file imports only from its own layer or the ones below it
//      core  <  mixture | noise | eval  <  trainer  <  run  <  cli  <  the package root (src/*.ts)
//    and mixture, noise and eval do not import each other (each stands on core alone);
// 2. no import cycles between files of src/ (type-only imports count: they tie the files together
//    for a reader all the same);
// 3. no file in src/ over 500 lines unless a comment near its top says why ("Long file: <reason>").
// Prints every finding with the file and line, and exits 1 when there is one.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const MAX_LINES = 500;
const root = resolve(process.argv[2] ?? 'src');

/** Layer rank and name of a file of src/. */
function layerOf(file) {
  const rel = relative(root, file).split('/');
  if (rel.length === 1) return { rank: 5, name: 'root' };
  const top = rel[0];
  const ranks = { core: 0, mixture: 1, noise: 1, eval: 1, trainer: 2, run: 3, cli: 4 };
  if (!(top in ranks)) return { rank: -1, name: top };
  return { rank: ranks[top], name: top };
}

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (/\.ts$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Relative imports of a file: static `import`/`export … from`, side-effect imports and `import()`. */
function importsOf(file, text) {
  const found = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]+)\1/gm;
  const lines = text.split('\n');
  let offset = 0;
  const lineStarts = lines.map((l) => {
    const start = offset;
    offset += l.length + 1;
    return start;
  });
  const lineOf = (index) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  // doc comments hold examples (`import … from 'cleave'`), never relative imports; skip them anyway
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '));
  for (const m of code.matchAll(pattern)) {
    const target = resolve(dirname(file), m[2]).replace(/\.js$/, '.ts');
    found.push({ target, line: lineOf(m.index) });
  }
  return found;
}

const files = walk(root);
const known = new Set(files);
const findings = [];
const graph = new Map();

for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const from = layerOf(file);
  const rel = relative(process.cwd(), file);
  if (from.rank < 0) findings.push(`${rel}: folder src/${from.name} is not a layer (see CONTRIBUTING.md)`);
  const edges = [];
  for (const { target, line } of importsOf(file, text)) {
    const resolved = known.has(target)
      ? target
      : known.has(join(target, 'index.ts'))
        ? join(target, 'index.ts')
        : null;
    if (!resolved) {
      if (target.startsWith(root)) findings.push(`${rel}:${line}: import of a file that is not in src/`);
      continue;
    }
    edges.push({ target: resolved, line });
    const to = layerOf(resolved);
    const upward = to.rank > from.rank;
    const sideways = from.rank === 1 && to.rank === 1 && to.name !== from.name;
    if (upward || sideways) {
      findings.push(
        `${rel}:${line}: ${from.name} imports from ${upward ? 'a higher layer' : 'a sibling layer'}, ` +
          `${to.name} (${relative(process.cwd(), resolved)})`,
      );
    }
  }
  graph.set(file, edges);
  const lines = text.split('\n').length;
  if (lines > MAX_LINES && !/long file:\s*\S/i.test(text.split('\n').slice(0, 40).join('\n'))) {
    findings.push(
      `${rel}: ${lines} lines (over ${MAX_LINES}) and no "Long file: <reason>" comment at its top`,
    );
  }
}

// cycles: depth-first search, one report per strongly connected group found through a back edge
const state = new Map(); // 1 = on the stack, 2 = done
const stack = [];
const reported = new Set();
function visit(file) {
  state.set(file, 1);
  stack.push(file);
  for (const { target, line } of graph.get(file) ?? []) {
    if (state.get(target) === 1) {
      const cycle = stack.slice(stack.indexOf(target)).map((f) => relative(process.cwd(), f));
      const key = [...cycle].sort().join(' ');
      if (!reported.has(key)) {
        reported.add(key);
        findings.push(
          `import cycle: ${[...cycle, relative(process.cwd(), target)].join(' → ')} (line ${line})`,
        );
      }
    } else if (!state.has(target)) visit(target);
  }
  stack.pop();
  state.set(file, 2);
}
for (const file of files) if (!state.has(file)) visit(file);

if (findings.length) {
  console.error(`layer check: ${findings.length} finding(s)\n${findings.map((f) => `  ${f}`).join('\n')}`);
  process.exit(1);
}
console.log(`layer check: ${files.length} files, layers, cycles and sizes ok`);
