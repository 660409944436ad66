/** The grid of the long-form grid kill test, shared with the child process it kills. */
import { GRID_CONFIG } from '../run/grid-fixture.js';

/** 2 clean cells + 2 rates · 1 kind · 2 methods · 2 seeds = 10 cells, with figures. */
export const FAULT_GRID = {
  rates: [0, 0.2, 0.4],
  kinds: ['shuffle'] as 'shuffle'[],
  methods: ['cca', 'vse'] as ('cca' | 'vse')[],
  seeds: [0, 1],
  config: GRID_CONFIG,
  plots: false,
  backend: 'cpu' as const,
};
