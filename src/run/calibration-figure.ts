/**
 * The reliability diagram of P(clean) against a known truth (`calibration.svg/.png`, written by
 * `trainAndReport` and `auditPairs` when the pairs carry injected noise): per equal-width bin of
 * P(clean), the share of truly clean pairs (bars) and the bin's mean P(clean) (dots); a calibrated
 * posterior has its dots on the diagonal. The title carries the ECE (`expectedCalibrationError`).
 *
 * @example
 * ```ts
 * import { writeFigure } from 'cleave';
 * import { expectedCalibrationError } from 'cleave/eval';
 * import { calibrationSpec } from 'cleave/run';
 * await writeFigure('runs/x/calibration', calibrationSpec(expectedCalibrationError(post, noisy), 'refurb'));
 * ```
 */

import type { VegaLiteSpec } from '../core/plot.js';
import type { Calibration } from '../eval/uncertainty.js';

/**
 * The Vega-Lite spec of a reliability diagram (see the module documentation).
 *
 * @example
 * ```ts
 * calibrationSpec(expectedCalibrationError([0.2, 0.9], [1, 0]), 'audit').title;   // { text: 'audit: reliability of P(clean)', … }
 * ```
 */
export function calibrationSpec(calibration: Calibration, label: string): VegaLiteSpec {
  const bins = calibration.bins
    .filter((b) => b.count > 0)
    .map((b) => ({
      lower: b.lower,
      upper: b.upper,
      count: b.count,
      meanPosterior: b.meanPosterior,
      cleanFraction: b.cleanFraction,
    }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: `${label}: reliability of P(clean)`,
      subtitle: `ECE ${calibration.ece.toFixed(3)} (${calibration.bins.length} bins); calibrated = on the diagonal`,
    },
    width: 320,
    height: 320,
    layer: [
      {
        data: { values: bins },
        mark: { type: 'bar', color: '#1f77b4', opacity: 0.4 },
        encoding: {
          x: {
            field: 'lower',
            type: 'quantitative',
            bin: { binned: true },
            title: 'P(clean)',
            scale: { domain: [0, 1] },
          },
          x2: { field: 'upper' },
          y: {
            field: 'cleanFraction',
            type: 'quantitative',
            title: 'share truly clean',
            scale: { domain: [0, 1] },
          },
        },
      },
      {
        data: {
          values: [
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ],
        },
        mark: { type: 'line', color: '#777', strokeDash: [4, 3] },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values: bins },
        mark: { type: 'point', filled: true, color: '#d62728' },
        encoding: {
          x: { field: 'meanPosterior', type: 'quantitative' },
          y: { field: 'cleanFraction', type: 'quantitative' },
          size: { field: 'count', type: 'quantitative', title: 'pairs', scale: { range: [30, 300] } },
        },
      },
    ],
  };
}
