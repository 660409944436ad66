/**
 * A grid run in its own process, for the kill test in grid.test.ts:
 * `node --import tsx test/run/grid-child.ts <manifest> <outDir>`.
 */
import { runGrid } from '../../src/run/grid.js';
import { GRID_CONFIG, KILL_GRID } from './grid-fixture.js';

const [manifest, outDir] = process.argv.slice(2);
await runGrid({
  ...KILL_GRID,
  data: manifest!,
  outDir: outDir!,
  config: GRID_CONFIG,
  plots: false,
  backend: 'cpu',
});
