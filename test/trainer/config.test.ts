import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { deepMerge, METHOD_PRESETS, resolveTrainerConfig } from '../../src/trainer/config.js';

describe('trainer config', () => {
  it('applies the method preset under the user values', () => {
    const ncr = resolveTrainerConfig({ method: 'ncr-like' });
    expect(ncr.split.mixture).toBe('gaussian');
    expect(ncr.split.source).toBe('peer');
    expect(ncr.coTraining).toBe(true);
    expect(ncr.model.head).toBe('deterministic');
    const ablation = resolveTrainerConfig({ method: 'ncr-like', split: { mixture: 'beta' } });
    expect(ablation.split.mixture).toBe('beta');
    expect(ablation.split.source).toBe('peer'); // the rest of the preset stays
    const vse = resolveTrainerConfig({ method: 'vse', epochs: 3 });
    expect(vse.warmupEpochs).toBe(0);
    expect(vse.epochs).toBe(3);
    expect(resolveTrainerConfig().method).toBe('refurb');
  });

  it('every preset resolves to a valid config', () => {
    for (const method of Object.keys(METHOD_PRESETS)) {
      expect(() => resolveTrainerConfig({ method })).not.toThrow();
    }
  });

  it('names the offending field', () => {
    const bad = (input: unknown, path: string) => {
      let error: unknown;
      try {
        resolveTrainerConfig(input, 'run.json');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toMatch(/^run\.json is not valid/);
      expect((error as ConfigError).issues.map((i) => i.path)).toContain(path);
    };
    bad({ epochs: 0 }, 'epochs');
    bad({ split: { mixture: 'poisson' } }, 'split.mixture');
    bad({ epochs: 3, warmupEpochs: 5 }, 'warmupEpochs');
    bad({ model: { head: 'deterministic' }, retrain: { loss: 'match' } }, 'retrain.loss');
    bad({ unknownOption: 1 }, '(root)');
    bad({ method: 'magic' }, 'method');
  });

  it('peer scoring implies co-training', () => {
    expect(resolveTrainerConfig({ split: { source: 'peer' } }).coTraining).toBe(true);
  });

  it('deepMerge merges plain objects and replaces everything else', () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 })).toEqual({
      a: { b: 1, c: [3] },
      d: 1,
      e: 2,
    });
  });
});
