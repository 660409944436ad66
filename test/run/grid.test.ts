/**
 * The experiment grid: finished cells are skipped on a second run, a changed recipe re-runs its cells,
 * a damaged or foreign results file is never overwritten, a run killed with SIGKILL leaves a valid
 * results file that the next run resumes from, and the tables agree with the stored cells.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { parseCsv } from '../../src/core/io/csv.js';
import { cellKey, type GridCellEvent, type GridResults, runGrid } from '../../src/run/grid.js';
import { writeGridOutputs } from '../../src/run/grid-outputs.js';
import { GRID_CONFIG, KILL_GRID } from './grid-fixture.js';
import { syntheticPairs, tempDir, useCpu, writeSyntheticManifest } from './helpers.js';

const tmp = tempDir('cleave-grid-');
beforeAll(useCpu);
afterAll(tmp.cleanup);

const data = syntheticPairs({ images: 80 });
const SMALL_GRID = {
  rates: [0, 0.4],
  kinds: ['shuffle'] as 'shuffle'[],
  methods: ['cca', 'vse'] as ('cca' | 'vse')[],
  seeds: [0, 1],
};
const readResults = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as GridResults;

describe('runGrid', () => {
  it('skips finished cells, re-runs stale ones, and writes tables that agree with the cells', async () => {
    const outDir = join(tmp.dir, 'resume');
    const events: GridCellEvent[] = [];
    const onCell = (e: GridCellEvent) => {
      events.push(e);
    };
    const first = await runGrid({
      data,
      outDir,
      ...SMALL_GRID,
      config: GRID_CONFIG,
      maxCells: 3,
      onCell,
      plots: false,
    });
    expect(first.finished).toHaveLength(3);
    expect(first.pending).toHaveLength(5); // per seed 2 clean + 2 noisy cells: 8 in all
    const stored = readResults(outDir);
    expect(Object.keys(stored.cells).sort()).toEqual([...first.finished].sort());
    expect(stored.cells[cellKey(null, 0, 'cca', 0)]).toMatchObject({ kind: null, protocol: 'none', rate: 0 });

    events.length = 0;
    const second = await runGrid({ data, outDir, ...SMALL_GRID, config: GRID_CONFIG, onCell, plots: false });
    expect(events.filter((e) => e.skipped).map((e) => e.cell.key)).toEqual(first.finished);
    expect(events.filter((e) => !e.skipped)).toHaveLength(5);
    expect(second.pending).toEqual([]);
    const after = readResults(outDir);
    for (const key of first.finished) expect(after.cells[key]).toEqual(stored.cells[key]);
    const noisy = after.cells[cellKey('shuffle', 0.4, 'vse', 1)]!;
    expect(noisy.protocol).toBe('caption-level');
    expect(noisy.epochs).toHaveLength(2);
    expect(existsSync(join(outDir, noisy.dir, 'report.json'))).toBe(true);

    // a changed trainer recipe re-runs the trainer cells only
    events.length = 0;
    await runGrid({
      data,
      outDir,
      ...SMALL_GRID,
      config: { ...GRID_CONFIG, epochs: 3 },
      onCell,
      plots: false,
    });
    const rerun = events.filter((e) => !e.skipped).map((e) => e.cell.method);
    expect(rerun).toHaveLength(4);
    expect(new Set(rerun)).toEqual(new Set(['vse']));
    expect(readResults(outDir).cells[cellKey('shuffle', 0.4, 'vse', 1)]!.epochs).toHaveLength(3);

    // tables: the CSV means are the means of the stored cells
    const grid = await runGrid({
      data,
      outDir,
      ...SMALL_GRID,
      config: { ...GRID_CONFIG, epochs: 3 },
      plots: false,
    });
    const paths = await writeGridOutputs(grid);
    const csv = parseCsv(readFileSync(paths.csv, 'utf8'));
    const header = csv[0]!;
    const row = csv.find((r) => r[2] === '0.4' && r[3] === 'vse')!;
    const cells = readResults(outDir).cells;
    const rsums = [0, 1].map((s) => cells[cellKey('shuffle', 0.4, 'vse', s)]!.test.rsum);
    expect(Number(row[header.indexOf('rsum_mean')])).toBeCloseTo((rsums[0]! + rsums[1]!) / 2, 10);
    expect(Number(row[header.indexOf('rsum_sd')])).toBeCloseTo(
      Math.abs(rsums[0]! - rsums[1]!) / Math.SQRT2,
      10,
    );
    expect(csv).toHaveLength(1 + 4);
    expect(readFileSync(paths.markdown, 'utf8')).toMatch(/\| caption-level \| +0\.4 \| vse +\| +2 \|/);
    expect(paths.figures.filter((f) => f.endsWith('.png'))).toHaveLength(2);
    for (const f of paths.figures.filter((p) => p.endsWith('.png'))) {
      expect(readFileSync(f).subarray(0, 4).toString('latin1')).toBe('\x89PNG');
    }
  });

  it('never overwrites a damaged or foreign results file', async () => {
    const outDir = join(tmp.dir, 'damaged');
    await runGrid({
      data,
      outDir,
      ...SMALL_GRID,
      methods: ['cca'],
      config: GRID_CONFIG,
      maxCells: 1,
      plots: false,
    });
    const path = join(outDir, 'results.json');
    writeFileSync(path, '{"format": "cleave-grid-res');
    await expect(runGrid({ data, outDir, ...SMALL_GRID, config: GRID_CONFIG })).rejects.toThrow(DataError);
    expect(readFileSync(path, 'utf8')).toBe('{"format": "cleave-grid-res');
    writeFileSync(
      path,
      JSON.stringify({ format: 'cleave-grid-results', version: 1, dataset: 'other', cells: {} }),
    );
    await expect(runGrid({ data, outDir, ...SMALL_GRID, config: GRID_CONFIG })).rejects.toThrow(ConfigError);
  });

  it('the oracle gets a cell per noisy rate only (without noise it would be vse), trained on the clean pairs', async () => {
    const outDir = join(tmp.dir, 'oracle');
    const grid = await runGrid({
      data,
      outDir,
      rates: [0, 0.5],
      kinds: ['shuffle'],
      methods: ['vse', 'oracle'],
      seeds: [0],
      config: GRID_CONFIG,
      plots: false,
    });
    expect(grid.finished.sort()).toEqual(
      [
        cellKey(null, 0, 'vse', 0),
        cellKey('shuffle', 0.5, 'vse', 0),
        cellKey('shuffle', 0.5, 'oracle', 0),
      ].sort(),
    );
    const oracle = grid.results.cells[cellKey('shuffle', 0.5, 'oracle', 0)]!;
    const report = JSON.parse(readFileSync(join(outDir, oracle.dir, 'report.json'), 'utf8'));
    const vseReport = JSON.parse(
      readFileSync(
        join(outDir, grid.results.cells[cellKey('shuffle', 0.5, 'vse', 0)]!.dir, 'report.json'),
        'utf8',
      ),
    );
    expect(report.training.trainPairs).toBe(vseReport.training.trainPairs - report.noise.noisyPairs);
  });

  it('a bad recipe stops the grid before any cell runs, naming the method and field', async () => {
    const outDir = join(tmp.dir, 'bad');
    await expect(
      runGrid({ data, outDir, ...SMALL_GRID, config: GRID_CONFIG, methodConfig: { vse: { batchSize: 1 } } }),
    ).rejects.toThrow(/trainer config \(vse\) is not valid:\n\s+batchSize/);
    expect(existsSync(join(outDir, 'results.json'))).toBe(false);
  });

  it('a run killed with SIGKILL leaves a valid results file, and the next run resumes from it', async () => {
    const manifest = await writeSyntheticManifest(join(tmp.dir, 'kill-data'), { images: 60 });
    const outDir = join(tmp.dir, 'killed');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./grid-child.ts', import.meta.url)), manifest, outDir],
      { env: { ...process.env, CLEAVE_LOG_LEVEL: 'silent' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (b) => {
      stderr += String(b);
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const path = join(outDir, 'results.json');
    const count = () => {
      try {
        return Object.keys(readResults(outDir).cells).length;
      } catch {
        return -1;
      }
    };
    const deadline = Date.now() + 45_000;
    while (count() < 3 && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await exited;
    expect(stderr).toBe('');
    const killed = readResults(outDir);
    const done = Object.keys(killed.cells);
    expect(done.length).toBeGreaterThanOrEqual(3);
    expect(done.length).toBeLessThan(2 * 4 + 4 * 2 * 2 * 4); // it really was stopped half way
    for (const c of Object.values(killed.cells)) expect(typeof c.test.rsum).toBe('number');
    expect(existsSync(path)).toBe(true);

    // resume a sub-grid: the cells the killed run finished are skipped, the rest run
    const events: GridCellEvent[] = [];
    const sub = { ...KILL_GRID, rates: [0, 0.2], kinds: ['shuffle'] as 'shuffle'[], seeds: [0, 1] };
    await runGrid({
      data: manifest,
      outDir,
      ...sub,
      config: GRID_CONFIG,
      plots: false,
      onCell: (e) => {
        events.push(e);
      },
    });
    const skipped = events.filter((e) => e.skipped).map((e) => e.cell.key);
    const planned = events.map((e) => e.cell.key);
    expect(skipped).toEqual(planned.filter((k) => done.includes(k)));
    expect(skipped.length).toBeGreaterThan(0);
    const resumed = readResults(outDir);
    for (const k of done) expect(resumed.cells[k]).toEqual(killed.cells[k]);
    for (const k of planned) expect(resumed.cells[k]).toBeDefined();
  });
});
