/**
 * Corrupted checkpoints of each kind: every file of a checkpoint truncated, emptied, filled with
 * garbage or (weights) given a NaN. A `--resume` from it must fail with a `CleaveError` that names the
 * damaged file — never another error, never a silent restart — and must leave the checkpoint as it was.
 */
import { cpSync, existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CleaveError } from '../../src/core/errors.js';
import { trainAndReport } from '../../src/run/train-and-report.js';
import { tempDir, useCpu } from '../run/helpers.js';
import { snapshot } from './helpers.js';

const tmp = tempDir('cleave-faults-ckpt-');
const RUN = { warmupEpochs: 1, epochs: 3 };
const DATA = 'myntra-fashionclip-99';
let trained: string;

beforeAll(async () => {
  await useCpu();
  trained = join(tmp.dir, 'trained');
  await trainAndReport({
    data: DATA,
    outDir: trained,
    config: RUN,
    checkpoint: true,
    plots: false,
    saveModel: false,
  });
});
afterAll(tmp.cleanup);

type Damage = (path: string) => void;
const truncate: Damage = (p) => truncateSync(p, Math.floor(readFileSync(p).length / 2));
const empty: Damage = (p) => truncateSync(p, 0);
const garbage: Damage = (p) => writeFileSync(p, Buffer.alloc(readFileSync(p).length, 0x7b));
const nan: Damage = (p) => {
  const b = readFileSync(p);
  b.writeFloatLE(Number.NaN, 4 * 5);
  writeFileSync(p, b);
};

const E = 'epoch-0003';
const CASES: [string, string, Damage][] = [
  ['latest.json', 'truncated', truncate],
  ['latest.json', 'garbage', garbage],
  [`${E}/state.json`, 'truncated', truncate],
  [`${E}/state.json`, 'empty', empty],
  [`${E}/net-0/model.json`, 'truncated', truncate],
  [`${E}/net-0/weights.bin`, 'truncated', truncate],
  [`${E}/net-0/weights.bin`, 'NaN', nan],
  [`${E}/net-0/optimizer.json`, 'garbage', garbage],
  [`${E}/net-0/optimizer.bin`, 'truncated', truncate],
  [`${E}/net-0/optimizer.bin`, 'NaN', nan],
  [`${E}/net-0/auxiliary.json`, 'empty', empty],
  [`${E}/net-0/auxiliary.bin`, 'truncated', truncate],
  [`${E}/posterior-0.npy`, 'truncated', truncate],
  [`${E}/score-ema-0.npy`, 'garbage', garbage],
  [`${E}/split-scores-0.npy`, 'empty', empty],
  ['best/weights.bin', 'truncated', truncate],
  ['best/weights.bin', 'NaN', nan],
  ['best/model.json', 'garbage', garbage],
];

describe('fault suite: corrupted checkpoints', () => {
  it.each(CASES)(
    '%s (%s) is a CleaveError naming it, and the checkpoint is left as it was',
    async (file, label, damage) => {
      const outDir = join(tmp.dir, `${file.replace(/\W+/g, '-')}-${label}`);
      cpSync(trained, outDir, { recursive: true });
      damage(join(outDir, 'checkpoints', file));
      const before = snapshot(join(outDir, 'checkpoints'));
      let error: unknown;
      try {
        await trainAndReport({
          data: DATA,
          outDir,
          config: { ...RUN, epochs: 4 },
          resume: true,
          plots: false,
        });
      } catch (e) {
        error = e;
      }
      expect(error, 'the resume must fail').toBeInstanceOf(CleaveError);
      const message = (error as Error).message;
      const name = file.split('/').pop()!;
      // the file itself, or its folder for a model (model.json + weights.bin are read as one)
      expect(message).toMatch(
        new RegExp(`${name.replace('.', '\\.')}|${file.split('/').slice(0, -1).join('/')}`),
      );
      expect(snapshot(join(outDir, 'checkpoints'))).toEqual(before);
    },
  );

  it('a failure while saving the best model leaves latest.json on an epoch whose best model is saved', async () => {
    // epoch 0 is the first best: its best/ save fails, so no checkpoint may name epoch 0 yet (else a
    // resume would continue from epoch 0 with the previous best's weights, or none)
    const outDir = join(tmp.dir, 'best-fails');
    process.env.CLEAVE_FAULT_INJECT = 'ENOSPC:best/weights.bin';
    try {
      await expect(
        trainAndReport({ data: DATA, outDir, config: RUN, checkpoint: true, plots: false }),
      ).rejects.toThrow(/best\/weights\.bin: the disk is full/);
    } finally {
      delete process.env.CLEAVE_FAULT_INJECT;
    }
    expect(existsSync(join(outDir, 'checkpoints', 'latest.json'))).toBe(false);
  });
});
