/**
 * Markdown/CSV formatting of results against hand-computed tables: the padded Markdown table, mean ±
 * sample sd over seeds, the grid table and CSV from fabricated cells, the run-report table, and the
 * CSV writer (against hand-written text and as the inverse of the project's CSV reader).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCsv, parseCsv } from '../../src/core/io/csv.js';
import type { GridCell } from '../../src/run/grid.js';
import type { RunReport } from '../../src/run/report.js';
import {
  aggregateGrid,
  formatMeanSd,
  gridCsv,
  gridMarkdown,
  markdownTable,
  meanSd,
  pairedDifferences,
  pairedMarkdown,
  reportsTable,
  signTestP,
} from '../../src/run/table.js';

function cell(
  kind: GridCell['kind'],
  rate: number,
  method: GridCell['method'],
  seed: number,
  i2t: [number, number, number],
  t2i: [number, number, number],
  auc?: number,
): GridCell {
  const rsum = [...i2t, ...t2i].reduce((a, b) => a + b, 0);
  return {
    key: `${kind}|${rate}|${method}|${seed}`,
    method,
    kind,
    protocol: kind === null ? 'none' : kind === 'shuffle' ? 'caption-level' : 'image-level',
    rate,
    seed,
    fingerprint: 'f',
    test: {
      i2t: { r1: i2t[0], r5: i2t[1], r10: i2t[2] },
      t2i: { r1: t2i[0], r5: t2i[1], r10: t2i[2] },
      rsum,
    },
    split: auc === undefined ? null : { auc, ap: 0, estimatedNoiseRate: 0, trueNoiseRate: 0 },
    lossSplit: null,
    epochs: [],
    seconds: 1,
    finishedAt: '',
    dir: '',
  };
}

const CELLS = [
  cell(null, 0, 'vse', 0, [10, 20, 30], [12, 22, 32]),
  cell(null, 0, 'vse', 1, [12, 22, 34], [14, 24, 36]),
  {
    ...cell('shuffle', 0.5, 'refurb', 0, [1, 2, 3], [4, 5, 6], 0.9),
    test: {
      i2t: { r1: 1, r5: 2, r10: 3 },
      t2i: { r1: 4, r5: 5, r10: 6 },
      rsum: 21,
      classMAP: { i2t: 0.4, t2i: 0.7 },
    },
  },
  cell('shuffle-images', 0.5, 'refurb', 0, [2, 3, 4], [5, 6, 7], 0.8),
  // a cell of another grid (rate 0.2) must not appear
  cell('shuffle', 0.2, 'vse', 0, [9, 9, 9], [9, 9, 9]),
];
const GRID = { kinds: ['shuffle', 'shuffle-images'], rates: [0, 0.5], methods: ['vse', 'refurb'] };

const cells = (md: string) =>
  md
    .trim()
    .split('\n')
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim()),
    );

describe('markdownTable', () => {
  it('pads columns and marks alignment (hand-written)', () => {
    expect(
      markdownTable(
        ['method', 'rSum'],
        [
          ['vse', '12.0'],
          ['refurb', '101.5'],
        ],
        ['l', 'r'],
      ),
    ).toBe('| method |  rSum |\n' + '| :----- | ----: |\n' + '| vse    |  12.0 |\n' + '| refurb | 101.5 |\n');
    expect(markdownTable(['a', 'b'], [['x', '']])).toBe('| a   |   b |\n| :-- | --: |\n| x   |     |\n');
  });
});

describe('mean ± sd', () => {
  it('uses the sample standard deviation and ignores missing values', () => {
    const s = meanSd([1, 2, null, 3, Number.NaN, 4]);
    expect(s).toEqual({ mean: 2.5, sd: 1.2909944487358056, n: 4 });
    expect(formatMeanSd(s, 2)).toBe('2.50 ± 1.29');
    expect(formatMeanSd(meanSd([7]), 1)).toBe('7.0');
    expect(formatMeanSd(meanSd([null, undefined]), 1)).toBe('—');
  });
});

describe('the grid tables', () => {
  const rows = aggregateGrid(CELLS, GRID);

  it('Markdown: one row per (protocol, rate, method) with cells, rate-0 rows under both protocols', () => {
    const md = gridMarkdown(rows);
    // the two seeds of the noise-free vse cell: (10, 12) (20, 22) (30, 34) (12, 14) (22, 24) (32, 36), rSum (126, 142)
    const noiseFree = [
      '11.0 ± 1.4',
      '21.0 ± 1.4',
      '32.0 ± 2.8',
      '13.0 ± 1.4',
      '23.0 ± 1.4',
      '34.0 ± 2.8',
      '134.0 ± 11.3',
      '—',
      '—',
    ];
    const lines = md.trim().split('\n');
    expect(new Set(lines.map((l) => l.length)).size).toBe(1); // padded: every line equally long
    expect(cells(md)).toEqual([
      [
        'protocol',
        'noise',
        'method',
        'seeds',
        'i2t R@1',
        'i2t R@5',
        'i2t R@10',
        't2i R@1',
        't2i R@5',
        't2i R@10',
        'rSum',
        'split AUC',
        'class mAP',
      ],
      [
        ':------------',
        '----:',
        ':-----',
        '----:',
        '---------:',
        '---------:',
        '---------:',
        '---------:',
        '---------:',
        '---------:',
        '-----------:',
        '--------:',
        '--------:',
      ],
      ['caption-level', '0', 'vse', '2', ...noiseFree],
      [
        'caption-level',
        '0.5',
        'refurb',
        '1',
        '1.0',
        '2.0',
        '3.0',
        '4.0',
        '5.0',
        '6.0',
        '21.0',
        '0.900',
        '0.550',
      ],
      ['image-level', '0', 'vse', '2', ...noiseFree],
      ['image-level', '0.5', 'refurb', '1', '2.0', '3.0', '4.0', '5.0', '6.0', '7.0', '27.0', '0.800', '—'],
    ]);
  });

  it('CSV: full-precision means and sample sds, empty where undefined', () => {
    const table = parseCsv(gridCsv(rows));
    expect(table[0]).toEqual([
      'protocol',
      'kind',
      'rate',
      'method',
      'seeds',
      'i2t_r1_mean',
      'i2t_r1_sd',
      'i2t_r5_mean',
      'i2t_r5_sd',
      'i2t_r10_mean',
      'i2t_r10_sd',
      't2i_r1_mean',
      't2i_r1_sd',
      't2i_r5_mean',
      't2i_r5_sd',
      't2i_r10_mean',
      't2i_r10_sd',
      'rsum_mean',
      'rsum_sd',
      'split_auc_mean',
      'split_auc_sd',
      'class_map_mean',
      'class_map_sd',
    ]);
    const r2 = '1.4142135623730951';
    const r8 = '2.8284271247461903';
    expect(table[1]).toEqual([
      'caption-level',
      'shuffle',
      '0',
      'vse',
      '2',
      '11',
      r2,
      '21',
      r2,
      '32',
      r8,
      '13',
      r2,
      '23',
      r2,
      '34',
      r8,
      '134',
      '11.313708498984761',
      '',
      '',
      '',
      '',
    ]);
    expect(table[2]).toEqual([
      'caption-level',
      'shuffle',
      '0.5',
      'refurb',
      '1',
      '1',
      '',
      '2',
      '',
      '3',
      '',
      '4',
      '',
      '5',
      '',
      '6',
      '',
      '21',
      '',
      '0.9',
      '',
      '0.55',
      '',
    ]);
    expect(table[4]?.slice(0, 4)).toEqual(['image-level', 'shuffle-images', '0.5', 'refurb']);
    expect(table).toHaveLength(5);
  });
});

describe('reportsTable', () => {
  it('one row per run, with the noise protocol and the split columns', () => {
    const base = {
      test: { i2t: { r1: 1.25, r5: 5, r10: 10 }, t2i: { r1: 2, r5: 6, r10: 11.04 }, rsum: 35.29 },
      timing: { totalSeconds: 12.34 },
    };
    const refurb = {
      ...base,
      noise: { rate: 0.5 },
      protocol: 'caption-level',
      split: { auc: 0.9876, estimatedNoiseRate: 0.4567, trueNoiseRate: 0.5 },
    } as unknown as RunReport;
    const plain = { ...base, noise: null, protocol: 'none' } as unknown as RunReport;
    const t = cells(
      reportsTable([
        { label: 'refurb', report: refurb },
        { label: 'vse', report: plain },
      ]),
    );
    expect(t[0]).toEqual([
      'method',
      'noise',
      'rSum',
      'i2t R@1',
      'i2t R@5',
      'i2t R@10',
      't2i R@1',
      't2i R@5',
      't2i R@10',
      'split AUC',
      'est. noise',
      'seconds',
    ]);
    const recalls = ['35.3', '1.3', '5.0', '10.0', '2.0', '6.0', '11.0']; // toFixed(1) of rSum and R@K
    expect(t[2]).toEqual(['refurb', '50% caption-level', ...recalls, '0.988', '0.46 / 0.50', '12.3']);
    expect(t[3]).toEqual(['vse', 'none', ...recalls, '—', '—', '12.3']);
  });

  it('shows the zero-shot baseline of shared-space runs once, under the first such run', () => {
    const zs = {
      test: { i2t: { r1: 70, r5: 90, r10: 95 }, t2i: { r1: 60, r5: 85, r10: 92.04 }, rsum: 492.04 },
      splitAuc: 0.99512,
    };
    const run = (method: string) =>
      ({
        method,
        test: { i2t: { r1: 71, r5: 91, r10: 96 }, t2i: { r1: 61, r5: 86, r10: 93 }, rsum: 498 },
        timing: { totalSeconds: 3 },
        noise: null,
        protocol: 'none',
        zeroShot: zs,
      }) as unknown as RunReport;
    const t = cells(
      reportsTable([
        { label: 'refurb', report: run('refurb') },
        { label: 'vse', report: run('vse') },
      ]),
    );
    expect([t[0]![0], ...t.slice(2).map((r) => r[0])]).toEqual([
      'method',
      'refurb',
      'zero-shot (inputs)',
      'vse',
    ]);
    expect(t[3]).toEqual([
      'zero-shot (inputs)',
      '',
      '492.0',
      '70.0',
      '90.0',
      '95.0',
      '60.0',
      '85.0',
      '92.0',
      '0.995',
      '—',
      '',
    ]);
  });
});

describe('formatCsv', () => {
  it('quotes what needs quoting (hand-written)', () => {
    expect(
      formatCsv([
        ['a', 'b'],
        [1, 'x, "y"'],
        [null, Number.NaN],
        [' pad', 'line\nbreak'],
        [true, 0.1],
      ]),
    ).toBe('a,b\n1,"x, ""y"""\n,\n" pad","line\nbreak"\ntrue,0.1\n');
  });

  it('is the inverse of parseCsv', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string(), { minLength: 2, maxLength: 4 }), { maxLength: 6 }),
        (rows) => {
          expect(parseCsv(formatCsv(rows))).toEqual(rows);
        },
      ),
    );
  });
});

describe('paired comparison against a baseline', () => {
  it('sign test: closed forms and scipy.stats.binomtest', () => {
    expect(signTestP(10, 0)).toBeCloseTo(2 / 1024, 15);
    expect(signTestP(0, 10)).toBeCloseTo(2 / 1024, 15);
    expect(signTestP(8, 2)).toBeCloseTo((2 * (1 + 10 + 45)) / 1024, 15);
    expect(signTestP(5, 5)).toBe(1);
    expect(signTestP(0, 0)).toBe(1);
    // scipy.stats.binomtest(470, 1000).pvalue = 0.06202319509836343 (large n: log-space sum)
    expect(signTestP(530, 470)).toBeCloseTo(0.06202319509836343, 12);
  });

  it('differences are taken seed by seed, only over seeds both methods finished, per noisy rate and kind', () => {
    const d = (seed: number, method: GridCell['method'], r1: number, kind: GridCell['kind'] = 'shuffle') =>
      cell(kind, 0.5, method, seed, [r1, 0, 0], [0, 0, 0]);
    const cells = [
      d(0, 'vse', 10),
      d(1, 'vse', 20),
      d(2, 'vse', 30),
      d(0, 'refurb', 13), // +3
      d(1, 'refurb', 21), // +1
      d(2, 'refurb', 28), // −2
      d(3, 'refurb', 99), // no vse on seed 3: ignored
      d(0, 'oracle', 10), // tie
      d(0, 'refurb', 50, 'shuffle-images'), // another kind, no vse there: no row
      cell(null, 0, 'refurb', 0, [99, 0, 0], [0, 0, 0]), // rate 0: no row
    ];
    const rows = pairedDifferences(cells, {
      kinds: ['shuffle', 'shuffle-images'],
      rates: [0, 0.5],
      methods: ['vse', 'refurb', 'oracle'],
    });
    expect(rows.map((r) => [r.kind, r.method])).toEqual([
      ['shuffle', 'refurb'],
      ['shuffle', 'oracle'],
    ]);
    const refurb = rows[0]!;
    expect(refurb.n).toBe(3);
    expect(refurb.mean).toBeCloseTo(2 / 3, 12);
    // sample sd of (3, 1, −2): mean 2/3, squares 49/9 + 1/9 + 64/9 = 114/9, / 2
    expect(refurb.sd).toBeCloseTo(Math.sqrt(114 / 18), 12);
    expect([refurb.wins, refurb.losses]).toEqual([2, 1]);
    expect(refurb.signTestP).toBe(1);
    expect([rows[1]!.wins, rows[1]!.losses, rows[1]!.signTestP]).toEqual([0, 0, 1]);
    const md = pairedMarkdown(rows);
    expect(md).toContain('Δ rSum vs vse');
    expect(md).toMatch(
      /\| caption-level \|\s+0\.5 \| refurb \|\s+3 \|\s+0\.7 ± 2\.5 \|\s+2 \/ 1 \|\s+1\.000 \|/,
    );
    expect(() => pairedDifferences(cells, { kinds: [], rates: [], methods: [] }, 'vse', 'nope')).toThrow(
      /unknown metric 'nope'/,
    );
  });
});
