/**
 * The run state named once: its checkpoint form round-trips, the array names are the ones older
 * checkpoints hold, and the zod schemas of `state.json` / `latest.json` accept what the trainer writes
 * and name the file and field of what they refuse.
 */
import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors.js';
import { BetaMixture } from '../../src/mixture/beta.js';
import {
  CHECKPOINT_FORMAT,
  checkpointState,
  latestFileSchema,
  newRunState,
  parseCheckpointFile,
  restoreRunArrays,
  savedSplitArrays,
  stateFileSchema,
} from '../../src/trainer/state.js';

function filled() {
  const state = newRunState(2);
  state.posterior = [Float64Array.from([0.9, 0.1]), Float64Array.from([0.8, 0.3])];
  state.scoreEma = [Float64Array.from([0.1, 0.9]), undefined];
  state.targets = [Float32Array.from([0.9, 0]), Float32Array.from([0.8, 0.3])];
  state.heldout = Float64Array.from([0.2, 0.7]);
  const mixture = new BetaMixture().fit([0.05, 0.1, 0.12, 0.2, 0.15, 0.8, 0.85, 0.9, 0.7, 0.95]);
  state.lastSplit = [
    {
      net: 0,
      scores: Float64Array.from([0.1, 0.9]),
      values: Float64Array.from([0, 1]),
      scaling: { method: 'minmax', low: 0.1, high: 0.9, clip: 0 },
      posterior: Float64Array.from([0.9, 0.1]),
      mixture,
      inputWeight: 0.5,
    },
  ];
  state.best.epoch = 3;
  state.best.rsum = 250;
  return state;
}

describe('checkpoint form of the run state', () => {
  it('names every array as older checkpoints do, in the order they are written', () => {
    const saved = checkpointState(filled(), { epoch: 4, netCount: 2 });
    expect(Object.keys(saved.arrays)).toEqual([
      'posterior-0',
      'score-ema-0',
      'targets-0',
      'posterior-1',
      'targets-1',
      'heldout',
      'split-scores-0',
      'split-posterior-0',
    ]);
    expect(saved.splits).toEqual([
      { net: 0, mixture: filled().lastSplit[0]!.mixture.toJSON(), inputWeight: 0.5 },
    ]);
    expect(saved).toMatchObject({ epoch: 4, bestEpoch: 3, bestRsum: 250 });
  });

  it('restores the same arrays into a fresh state', () => {
    const saved = checkpointState(filled(), { epoch: 4, netCount: 2 });
    const again = newRunState(2);
    restoreRunArrays(again, saved.arrays, 2);
    const before = filled();
    expect(again.posterior).toEqual(before.posterior);
    expect(again.scoreEma).toEqual(before.scoreEma);
    expect(again.nullEma).toEqual([undefined, undefined]);
    expect(again.targets).toEqual(before.targets);
    expect(again.heldout).toEqual(before.heldout);
    const split = savedSplitArrays(saved.arrays, 0);
    expect(split.scores).toEqual(before.lastSplit[0]!.scores);
    expect(split.posterior).toEqual(before.lastSplit[0]!.posterior);
    expect(split.nullScores).toBeUndefined();
    expect(savedSplitArrays(saved.arrays, 1)).toEqual({});
  });
});

/** A `state.json` as the trainer wrote it before the schemas existed (same fields). */
const written = {
  format: 'cleave-checkpoint',
  generatedBy: 'cleave v0.1.0',
  epoch: 2,
  config: { method: 'refurb', epochs: 3 },
  nets: 1,
  history: [
    { epoch: 0, phase: 'warmup', loss: [7.4], validation: { rsum: 96.7 }, seconds: 0.6 },
    { epoch: 1, phase: 'train', loss: [null], split: { auc: 0.66, mixture: { b: 1, a: 2 } }, seconds: 0.5 },
  ],
  bestEpoch: -1,
  bestRsum: null,
  arrays: ['posterior-0', 'score-ema-0', 'targets-0', 'split-scores-0', 'split-posterior-0'],
  splits: [{ net: 0, mixture: { kind: 'beta' } }],
};

describe('state.json and latest.json schemas', () => {
  it('accept what the trainer writes, keeping history entries as written', () => {
    const parsed = parseCheckpointFile(stateFileSchema, structuredClone(written), 'state.json');
    expect(parsed).toEqual(written);
    expect(Object.keys(parsed.history[1]!.split as object)).toEqual(['auc', 'mixture']);
    expect(CHECKPOINT_FORMAT).toBe(written.format);
    expect(parseCheckpointFile(latestFileSchema, { epoch: 2, path: 'epoch-0003' }, 'latest.json')).toEqual({
      epoch: 2,
      path: 'epoch-0003',
    });
  });

  const refused = (schema: typeof stateFileSchema | typeof latestFileSchema, value: unknown): DataError => {
    try {
      parseCheckpointFile(schema, value, 'ckpt/epoch-0003/state.json', 'remove it');
    } catch (e) {
      return e as DataError;
    }
    throw new Error('expected a DataError');
  };

  it('name the file and the field of a bad value, and what to do', () => {
    const e = refused(stateFileSchema, { ...written, epoch: '2' });
    expect(e).toBeInstanceOf(DataError);
    expect(e.file).toBe('ckpt/epoch-0003/state.json');
    expect(e.field).toBe('epoch');
    expect(e.message).toBe('ckpt/epoch-0003/state.json: "epoch" is "2", expected number; remove it');
    expect(refused(stateFileSchema, { ...written, format: 'other' }).field).toBe('format');
    const missing = refused(stateFileSchema, { ...written, nets: undefined });
    expect(missing.message).toMatch(/"nets" is missing, expected number/);
  });

  it('refuse a malformed history entry and an array name that leaves the folder', () => {
    const bad = { ...written, history: [{ epoch: 0, phase: 'rest', loss: [], seconds: 0 }] };
    expect(refused(stateFileSchema, bad).field).toBe('history.0');
    const e = refused(stateFileSchema, { ...written, arrays: ['../../etc/passwd'] });
    expect(e.field).toBe('arrays.0');
    expect(e.message).toMatch(/expected an array name/);
  });

  it('refuse a latest.json path outside its folder', () => {
    const e = refused(latestFileSchema, { epoch: 2, path: '../../x' });
    expect(e.field).toBe('path');
    expect(e.message).toMatch(/"path" is "\.\.\/\.\.\/x": expected an epoch folder beside it/);
  });
});
