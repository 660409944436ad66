/** Grid settings shared by grid.test.ts and the child process it kills. */
import { SMALL } from '../trainer/helpers.js';

/** A tiny, fast trainer config for grid cells. */
export const GRID_CONFIG = { ...SMALL, epochs: 2, warmupEpochs: 0 };

/** A grid big enough to be killed half way: per seed 2 clean + 4 rates · 2 kinds · 2 methods = 18 cells; 72 in all. */
export const KILL_GRID = {
  rates: [0, 0.2, 0.4, 0.6, 0.8],
  kinds: ['shuffle', 'shuffle-images'] as ('shuffle' | 'shuffle-images')[],
  methods: ['cca', 'vse'] as ('cca' | 'vse')[],
  seeds: [0, 1, 2, 3],
};
