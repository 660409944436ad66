/**
 * Long form only (`npm run test:faults`; this file's suffix keeps it out of `npm test`): the experiment
 * grid killed with SIGKILL at seeded random moments, then rerun, must end with the results and cell
 * folders of an uninterrupted grid (JSON compared without timings) and no debris.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGrid } from '../../src/run/grid.js';
import { tempDir, useCpu, writeSyntheticManifest } from '../run/helpers.js';
import { FAULT_GRID } from './grid-fixture.js';
import { debris, freshDir, ROUNDS, seeded, snapshot, stableJson } from './helpers.js';

const tmp = tempDir('cleave-faults-grid-');
beforeAll(useCpu);
afterAll(tmp.cleanup);

function killAfter(manifest: string, outDir: string, ms: number): Promise<void> {
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./grid-child.ts', import.meta.url)), manifest, outDir],
      { env: { ...process.env, CLEAVE_LOG_LEVEL: 'silent', OPENBLAS_NUM_THREADS: '1' }, stdio: 'ignore' },
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', () => {
      clearTimeout(timer);
      done();
    });
  });
}

describe('fault suite, long form: the grid', () => {
  it('a grid killed at random moments and rerun ends with the uninterrupted grid’s outputs', async () => {
    const manifest = await writeSyntheticManifest(join(tmp.dir, 'data'), { images: 60 });
    const reference = freshDir(tmp.dir, 'grid-ref');
    const t0 = performance.now();
    await runGrid({ ...FAULT_GRID, data: manifest, outDir: reference });
    const ms = performance.now() - t0 + 3000; // + the child's start-up (tsx)
    const want = snapshot(reference);
    const random = seeded(21);
    for (let round = 0; round < ROUNDS; round++) {
      const out = freshDir(tmp.dir, `grid-kill-${round}`);
      await killAfter(manifest, out, Math.round(ms * (0.2 + 0.75 * random())));
      await runGrid({ ...FAULT_GRID, data: manifest, outDir: out });
      const got = snapshot(out);
      expect(debris(got)).toEqual([]);
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      for (const file of Object.keys(want)) {
        if (file.endsWith('.json')) {
          const drop = (v: unknown) =>
            JSON.parse(JSON.stringify(v, (k, x) => (k === 'finishedAt' ? undefined : x)));
          expect(drop(stableJson(join(out, file))), file).toEqual(drop(stableJson(join(reference, file))));
        } else if (!/\.(md|csv)$/.test(file)) expect(got[file], file).toBe(want[file]);
      }
    }
  });
});
