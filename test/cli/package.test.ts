/**
 * The package as a user gets it: built with tsc into a scratch copy (package.json, dist/, the native
 * addon), then `import('cleave')` and every subpath (`cleave/mixture`, …) from a consumer folder
 * (resolved through package.json `exports`), the root's exact list of names, and the `cleave` bin
 * (`dist/cli.js`): `--help`, `info --json`, `--backend`, and errors.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  bin: { cleave: string };
  exports: Record<string, string | { types: string; import: string }>;
};
/** The subpaths of package.json `exports` (`./mixture`, …), each with its types and its module. */
const subpaths = Object.entries(pkg.exports).flatMap(([key, target]) =>
  key === '.' || typeof target === 'string' ? [] : [{ key, ...target }],
);

/**
 * Every name the root (`cleave`) exports, types included. A new root export is a deliberate choice:
 * add it here (and to the README or a doc example that uses it); everything else belongs in a subpath.
 */
const ROOT_EXPORTS = [
  ...['AuditOptions', 'AuditRow', 'AuditSummary', 'auditOptionsSchema', 'auditPairs'],
  ...['BACKEND_NAMES', 'BackendChoice', 'BackendError', 'BackendInfo', 'BackendName', 'BackendOptions'],
  ...['backendOptionsSchema', 'BetaMixture', 'BetaMixtureOptions', 'BUNDLED_DATASETS'],
  ...['BundledDatasetName', 'bundledDataset', 'CleaveError', 'ConfigError', 'CrossModalModel'],
  ...['DataError', 'DataErrorLocation', 'DirectionMetrics', 'defaultLogFormat', 'EpochRecord'],
  ...['EvaluateRetrievalOptions', 'evaluateClassMAP', 'evaluateRetrieval', 'evaluateSavedModel'],
  ...['FigurePaths', 'FitOptions', 'FitResult', 'GaussianMixture', 'GaussianMixtureOptions'],
  ...['GridOptions', 'GridResults', 'getBackendInfo', 'getLogger', 'gridOptionsSchema'],
  ...['InjectNoiseOptions', 'injectNoiseOptionsSchema', 'initBackend', 'injectNoise', 'LOG_FORMATS'],
  ...['LoadPairsOptions', 'loadPairsOptionsSchema', 'LocalFdrOptions', 'LocalFdrSplit', 'LogFormat'],
  ...['LogLevel', 'LossKind', 'loadPairs', 'METHOD_PRESETS', 'Manifest', 'ModelConfig'],
  ...['ModelConfigInput', 'ModelRetrievalReport', 'modelConfigSchema', 'NoiseResult', 'normaliseLosses'],
  ...['OutputError', 'PairDataset', 'parseOrThrow', 'prettyLogLine', 'probeBackends', 'RUN_METHODS'],
  ...['RenderedFigure', 'RenderOptions', 'RetrievalMetrics', 'Rng', 'RunFile', 'RunMethod', 'RunReport'],
  ...['readRunFile', 'renderVegaLite', 'resolveTrainerConfig', 'retrievalMetrics', 'runFileSchema'],
  ...['runGrid', 'SplitQuality', 'scoreWithSavedModel', 'setLogFormat', 'setLogger', 'setLogLevel'],
  ...['splitQuality', 'TrainAndReportOptions', 'TrainAndReportResult', 'Trainer', 'TrainerCallback'],
  ...['TrainerConfig', 'TrainerConfigInput', 'TrainerMethod', 'TrainingError', 'trainAndReport'],
  ...['trainAndReportOptionsSchema', 'trainerConfigSchema', 'VERSION', 'VegaLiteSpec', 'writeFigure'],
  ...['LOG_LEVELS', 'logFormatSchema', 'logLevelFromEnv', 'logLevelSchema'],
];

/** The names (types and values) a declaration file exports, read with the TypeScript checker. */
function declaredExports(...dts: string[]): string[][] {
  const program = ts.createProgram(dts, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  return dts.map((file) => {
    const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
    return checker.getExportsOfModule(module).map((s) => s.name);
  });
}

/** Every `import { … } from 'cleave…'` in the README, the experiments and the doc comments of src/. */
function exampleImports(): { where: string; from: string; name: string }[] {
  const files = ['README.md'];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) files.push(path);
    }
  };
  walk('src');
  walk('experiments');
  const pattern = /import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*'(cleave(?:\/[a-z]+)?)'/g;
  return files.flatMap((where) =>
    [...readFileSync(join(root, where), 'utf8').matchAll(pattern)].flatMap((m) =>
      m[1]!
        .replace(/^\s*\*/gm, '')
        .split(',')
        .map(
          (n) =>
            n
              .trim()
              .replace(/^type\s+/, '')
              .split(/\s+as\s+/)[0]!,
        )
        .filter((name) => name !== '')
        .map((name) => ({ where, from: m[2]!, name })),
    ),
  );
}
let scratch: string;
let installed: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'cleave-cli-'));
  installed = join(scratch, 'node_modules', 'cleave');
  mkdirSync(installed, { recursive: true });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(
    process.execPath,
    [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(installed, 'dist')],
    {
      stdio: 'pipe',
    },
  );
  copyFileSync(join(root, 'package.json'), join(installed, 'package.json'));
  symlinkSync(join(root, 'native'), join(installed, 'native'));
  // the package's own dependencies, as npm would install them next to it
  symlinkSync(join(root, 'node_modules'), join(installed, 'node_modules'));
}, 120_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(installed, pkg.bin.cleave), ...args], {
    encoding: 'utf8',
    env: { ...process.env, CLEAVE_BACKEND: '', CLEAVE_LOG_LEVEL: 'silent', ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the built package', () => {
  it("resolves import('cleave') through package.json exports, from a consumer's folder", () => {
    const consumer = join(scratch, 'app.mjs');
    writeFileSync(
      consumer,
      "const m = await import('cleave');\nconst o = await import('cleave/model');\nconsole.log(JSON.stringify({ v: m.VERSION, f: [typeof m.initBackend, typeof o.createOptimizer, typeof m.getBackendInfo] }));\n",
    );
    const out = execFileSync(process.execPath, [consumer], { cwd: scratch, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ v: pkg.version, f: ['function', 'function', 'function'] });
  });

  it('resolves every subpath of package.json exports from a consumer, each with its declarations', () => {
    expect(subpaths.map((s) => s.key)).toEqual(
      expect.arrayContaining(['./mixture', './eval', './noise', './io', './trainer', './run']),
    );
    const consumer = join(scratch, 'subpaths.mjs');
    const specifiers = subpaths.map((s) => `cleave${s.key.slice(1)}`);
    writeFileSync(
      consumer,
      `const out = {};\nfor (const s of ${JSON.stringify(specifiers)}) out[s] = Object.keys(await import(s)).length;\nconsole.log(JSON.stringify(out));\n`,
    );
    const counts = JSON.parse(execFileSync(process.execPath, [consumer], { cwd: scratch, encoding: 'utf8' }));
    for (const s of specifiers) expect(counts[s], s).toBeGreaterThan(0);
    for (const s of subpaths) {
      expect(readFileSync(join(installed, s.types), 'utf8'), s.key).toMatch(/export/);
    }
  });

  it('resolves every subpath in the repository too: self-reference to dist/ and tsconfig paths', () => {
    // the repository's own dist/ (npm run build) as a user's script inside the repo would see it
    const out = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('cleave/mixture'); console.log(typeof m.BetaMixture)",
      ],
      { cwd: root, encoding: 'utf8' },
    );
    if (out.status === 0) expect(out.stdout.trim()).toBe('function');
    else expect(out.stderr).toMatch(/Cannot find module .*dist/); // not built: resolved, file absent
    // experiments and doc examples resolve `cleave/...` through tsconfig paths to the same entry file
    const paths = (
      JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as {
        compilerOptions: { paths: Record<string, string[]> };
      }
    ).compilerOptions.paths;
    for (const s of subpaths) {
      const source = s.import.replace(/^\.\/dist\//, './src/').replace(/\.js$/, '.ts');
      const name = `cleave${s.key.slice(1)}`;
      const mapped = paths[name] ?? paths['cleave/*']!.map((p) => p.replace('*', s.key.slice(2)));
      expect(mapped, name).toContain(source);
    }
  });

  it('the root exports exactly the listed names (types included); the rest is in subpaths', async () => {
    const [names] = declaredExports(join(installed, 'dist', 'index.d.ts')) as [string[]];
    expect([...names].sort()).toEqual([...ROOT_EXPORTS].sort());
    const runtime = Object.keys(await import(join(installed, 'dist', 'index.js')));
    expect(runtime.filter((n) => !ROOT_EXPORTS.includes(n))).toEqual([]);
    expect(runtime).not.toContain('runCli');
    expect(runtime).not.toContain('ParamStore');
  });

  it('every import in the README, the experiments and the doc examples names an export of its path', () => {
    const paths = [{ key: '.', types: './dist/index.d.ts' }, ...subpaths];
    const exported = declaredExports(...paths.map((s) => join(installed, s.types)));
    const byPath = new Map(paths.map((s, i) => [`cleave${s.key.slice(1)}`, new Set(exported[i])]));
    const imports = exampleImports();
    expect(imports.length).toBeGreaterThan(100);
    const missing = imports.filter((i) => !byPath.get(i.from)?.has(i.name));
    expect(missing.map((i) => `${i.where}: ${i.name} from '${i.from}'`)).toEqual([]);
  });

  it('ships type declarations for the public API', () => {
    const dts = readFileSync(join(installed, 'dist', 'index.d.ts'), 'utf8');
    expect(dts).toMatch(/initBackend/);
    expect(readFileSync(join(installed, 'dist', 'core', 'model', 'index.d.ts'), 'utf8')).toMatch(
      /createOptimizer/,
    );
  });
});

describe('the cleave command', () => {
  it('--help lists the subcommands and the global options', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Commands:[\s\S]*\binfo\b/);
    expect(r.stdout).toMatch(/--backend <name>/);
    expect(r.stdout).toMatch(/--log-level <level>/);
  });

  it('info --json prints the version, the chosen backend and why, and every backend', () => {
    const r = cli(['info', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as {
      version: string;
      backend: { name: string; reason: string; requested: string };
      backends: { name: string; available: boolean; detail: string }[];
    };
    expect(info.version).toBe(pkg.version);
    expect(info.backend.requested).toBe('auto');
    expect(info.backend.name).toBe('cpu-blas');
    expect(info.backend.reason).toMatch(/^auto: /);
    expect(info.backends.map((b) => b.name)).toEqual(['webgpu', 'tensorflow', 'cpu-blas', 'wasm', 'cpu']);
    expect(info.backends.find((b) => b.name === 'cpu')!.available).toBe(true);
  });

  it('--backend forces a backend (before or after the subcommand); CLEAVE_BACKEND too', () => {
    const before = JSON.parse(cli(['--backend', 'cpu', 'info', '--json']).stdout);
    expect(before.backend).toMatchObject({ name: 'cpu', source: 'option' });
    const after = JSON.parse(cli(['info', '--json', '--backend', 'wasm']).stdout);
    expect(after.backend).toMatchObject({ name: 'wasm' });
    const env = JSON.parse(cli(['info', '--json'], { CLEAVE_BACKEND: 'cpu' }).stdout);
    expect(env.backend).toMatchObject({ name: 'cpu', source: 'env' });
  });

  it('a forced backend that cannot start exits 1 with the reason and the fix, no stack trace', () => {
    const r = cli(['--backend', 'tensorflow', 'info']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^cleave: backend 'tensorflow' was requested .*cannot start: .*npm install @tensorflow\/tfjs-node/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('rejects unknown backends and log levels as usage errors (non-zero exit, the choices listed)', () => {
    const bad = cli(['--backend', 'cuda', 'info']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Allowed choices are auto, webgpu, tensorflow, cpu-blas, wasm, cpu/);
    const env = cli(['info'], { CLEAVE_BACKEND: 'cuda' });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/CLEAVE_BACKEND=cuda is not a backend/);
    const level = cli(['--log-level', 'loud', 'info']);
    expect(level.code).not.toBe(0);
    expect(level.stderr).toMatch(/use one of trace, debug/);
  });

  it('info prints a readable table', () => {
    const r = cli(['info']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^cleave ${pkg.version.replace(/\./g, '\\.')} `));
    expect(r.stdout).toMatch(/\* cpu-blas/);
    expect(r.stdout).toMatch(/- tensorflow .*\n\s+fix: npm install/);
  });

  it('logs: JSON lines when stderr is not a terminal, readable lines with --log-format pretty', () => {
    const info = { CLEAVE_LOG_LEVEL: 'info', CLEAVE_LOG_FORMAT: '' };
    const piped = cli(['info'], info); // spawnSync: stderr is a pipe, not a TTY
    expect(piped.code).toBe(0);
    const lines = piped.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ name: 'cleave' });

    const pretty = cli(['--log-format', 'pretty', 'info'], info);
    expect(pretty.code).toBe(0);
    expect(pretty.stderr).toMatch(/^backend: compute backend: cpu-blas/m);
    expect(pretty.stderr).not.toMatch(/"level"|\{"/);
    const env = cli(['info'], { ...info, CLEAVE_LOG_FORMAT: 'pretty' });
    expect(env.stderr).toMatch(/^backend: compute backend/m);
    const bad = cli(['--log-format', 'xml', 'info']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Allowed choices are pretty, json/);
  });
});
