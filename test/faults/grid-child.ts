/**
 * A grid run in its own process, for the long-form grid kill test (grid-kill.faults.ts):
 * `node --import tsx test/faults/grid-child.ts <manifest> <outDir>`.
 */
import { runGrid } from '../../src/run/grid.js';
import { FAULT_GRID } from './grid-fixture.js';

const [manifest, outDir] = process.argv.slice(2);
await runGrid({ ...FAULT_GRID, data: manifest!, outDir: outDir! });
