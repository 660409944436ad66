/**
 * The run files shipped under experiments/configs (the results README cites them) stay valid: each
 * parses with the run-file schema and every per-method override resolves with the trainer's schema.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type RunMethod, trainerMethodOf } from '../../src/run/report.js';
import { methodTrainerConfig, readRunFile } from '../../src/run/run-file.js';
import { resolveTrainerConfig } from '../../src/trainer/config.js';

const dir = join(import.meta.dirname, '..', '..', 'experiments', 'configs');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('experiments/configs', () => {
  it('has run files', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s parses and resolves for every method it names', async (name) => {
    const file = await readRunFile(join(dir, name));
    for (const method of Object.keys(file.run.methods ?? {})) {
      const trainer = trainerMethodOf(method as RunMethod);
      if (!trainer) continue; // cca: checked by the run-file schema
      const config = resolveTrainerConfig(
        methodTrainerConfig(file, method as RunMethod, { method: trainer }),
      );
      expect(config.method).toBe(trainer);
    }
  });

  it('plain-vse.json is vse without the class-prediction auxiliary task', async () => {
    const file = await readRunFile(join(dir, 'plain-vse.json'));
    const config = resolveTrainerConfig(methodTrainerConfig(file, 'vse', { method: 'vse' }));
    expect(config.warmup.classPrediction.weight).toBe(0);
    expect(resolveTrainerConfig({ method: 'vse' }).warmup.classPrediction.weight).toBeGreaterThan(0);
  });
});
