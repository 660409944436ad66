/**
 * `report.html` in a real browser (headless Debian chromium): the page's script runs to the end with no
 * console message at all, the table holds the expected rows, hostile captions stay text, broken image
 * links leave the caption; and `writeHtmlReport` reads a train run folder, and refuses other folders.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CleaveError } from '../../src/core/errors.js';
import { writeNpy } from '../../src/core/io/npy.js';
import { type HtmlCell, renderHtmlReport, writeHtmlReport } from '../../src/run/html-report.js';
import { openInChromium } from './browser.js';
import { tempDir } from './helpers.js';

const tmp = tempDir('cleave-html-');
afterAll(tmp.cleanup);

const rowCount = (dom: string) => (dom.match(/<tr class="(kept|removed)"/g) ?? []).length;

describe('renderHtmlReport in headless chromium', () => {
  it('renders every row, runs without console messages, keeps hostile text inert', () => {
    const n = 37;
    const pClean = Array.from({ length: n }, (_, j) => ((j * 7919) % 101) / 100);
    const order = Array.from(pClean.keys()).sort((a, b) => pClean[a]! - pClean[b]! || a - b);
    const rows: HtmlCell[][] = order.map((j, k) => [
      k + 1,
      j,
      `key${j}`,
      pClean[j]!,
      1 - pClean[j]!,
      pClean[j]! > 0.5,
      j === order[0] ? '</script><script>console.log("pwned")</script> & <b>bold</b>' : `caption ${j}`,
      // no network at test time: every link is broken and must fall back to the caption alone
      j % 2 ? `https://invalid.example/img/${j}.jpg` : 'javascript:console.log("pwned")',
    ]);
    const html = renderHtmlReport({
      title: 'test <report>',
      facts: [['pairs', String(n)]],
      figures: [
        {
          title: 'a figure',
          svg: '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
        },
      ],
      columns: ['rank', 'pair', 'id', 'p_clean', 'loss', 'kept', 'caption', 'url'],
      rows,
      pClean,
      threshold: 0.5,
    });
    expect(html).not.toContain('<?xml');
    expect(html).toContain('<title>test &lt;report&gt;</title>');
    const path = join(tmp.dir, 'unit.html');
    writeFileSync(path, html);
    const seen = openInChromium(path);
    expect(seen.console).toEqual([]);
    expect(seen.dom).toContain('data-ready="1"');
    expect(rowCount(seen.dom)).toBe(n);
    const kept = pClean.filter((p) => p > 0.5).length;
    expect(seen.dom).toContain(`kept ${kept}, removed ${n - kept} of ${n} pairs`);
    // the hostile caption is text in a cell, not markup
    expect(seen.dom).toContain(
      '&lt;/script&gt;&lt;script&gt;console.log("pwned")&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;',
    );
    expect(seen.dom).not.toContain('src="javascript:');
    // four score histograms: p_clean and loss
    expect((seen.dom.match(/aria-label="histogram of /g) ?? []).length).toBe(2);
    expect(seen.screenshot.subarray(0, 4).toString('latin1')).toBe('\x89PNG');
    expect(seen.screenshot.length).toBeGreaterThan(10_000);
  });

  it('opens the view a link asks for (threshold, filter, show, sort); a broken image leaves the caption', () => {
    const png1x1 =
      'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
    const n = 20;
    const pClean = Array.from({ length: n }, (_, j) => j / n); // 0, 0.05, …, 0.95
    const rows: HtmlCell[][] = pClean.map((p, j) => [
      j + 1,
      j,
      p,
      `caption ${j}${j % 2 ? ' shirt' : ''}`,
      j === 18 ? png1x1 : 'data:image/png;base64,bm90IGFuIGltYWdl', // "not an image"
    ]);
    const html = renderHtmlReport({
      title: 'view',
      facts: [],
      figures: [],
      columns: ['rank', 'pair', 'p_clean', 'caption', 'url'],
      rows,
      pClean,
      threshold: 0.5,
      scoreColumns: [],
    });
    const path = join(tmp.dir, 'view.html');
    writeFileSync(path, html);
    const seen = openInChromium(path, {
      hash: '#threshold=0.92&filter=shirt&show=kept&sort=-pair',
      screenshot: false,
    });
    expect(seen.console).toEqual([]);
    // P(clean) > 0.92 keeps only pair 19 (0.95): 1 kept, 19 removed
    expect(seen.dom).toContain('kept 1, removed 19 of 20 pairs');
    expect(seen.dom).toContain('<output id="thr-value">0.92</output>');
    // show=kept & filter=shirt: pair 19 only
    expect(rowCount(seen.dom)).toBe(1);
    const all = openInChromium(path, { hash: '#threshold=0&filter=shirt&sort=-pair', screenshot: false });
    // the odd pairs but pair 0 (P(clean) 0 is not > 0): 10 rows, sorted by pair descending
    expect(rowCount(all.dom)).toBe(10);
    const pairs = [
      ...all.dom.matchAll(
        /<tr class="(?:kept|removed)"><td class="thumb">(?:<img[^>]*>)?<\/td><td class="num">\d+<\/td><td class="num">(\d+)</g,
      ),
    ].map((m) => Number(m[1]));
    expect(pairs).toEqual([19, 17, 15, 13, 11, 9, 7, 5, 3, 1]);
    // images: the valid one stays, the broken ones are removed (their captions remain)
    expect((all.dom.match(/<img /g) ?? []).length).toBe(0); // no odd pair has the valid image
    const even = openInChromium(path, { hash: '#threshold=0&sort=-pair', screenshot: false });
    expect((even.dom.match(/<img /g) ?? []).length).toBe(1);
    expect(even.dom).toContain(png1x1);
    expect(even.dom).toContain('caption 16');
  });

  it('rejects rows that do not match the columns, and a table without p_clean', () => {
    const base = { title: 't', facts: [], figures: [], pClean: [0.5], threshold: 0.5 };
    expect(() => renderHtmlReport({ ...base, columns: ['rank', 'p_clean'], rows: [[1]] })).toThrow(
      /row 0 has 1 cells/,
    );
    expect(() => renderHtmlReport({ ...base, columns: ['rank'], rows: [[1]] })).toThrow(/p_clean/);
  });
});

describe('writeHtmlReport', () => {
  it('reads a train run folder (report.json, posteriors.npy, noisy.npy) and writes report.html', async () => {
    const dir = join(tmp.dir, 'train-run');
    mkdirSync(dir, { recursive: true });
    const post = Float64Array.from({ length: 50 }, (_, j) => (j % 10) / 10 + 0.05);
    await writeNpy(join(dir, 'posteriors.npy'), post, [50]);
    await writeNpy(
      join(dir, 'noisy.npy'),
      Uint8Array.from(post, (p) => (p < 0.3 ? 1 : 0)),
      [50],
    );
    writeFileSync(
      join(dir, 'report.json'),
      JSON.stringify({
        method: 'refurb',
        seed: 1,
        noise: { rate: 0.3, kind: 'shuffle' },
        dataset: { source: 'synthetic' },
        test: { rsum: 123.4 },
        split: { auc: 0.9, ap: 0.8, estimatedNoiseRate: 0.31, trueNoiseRate: 0.3, precision: 1, recall: 1 },
      }),
    );
    const path = await writeHtmlReport(dir, { maxRows: 20 });
    expect(path).toBe(join(dir, 'report.html'));
    const html = readFileSync(path, 'utf8');
    expect(html).toContain('estimated / true noise rate');
    const seen = openInChromium(path, { screenshot: false });
    expect(seen.console).toEqual([]);
    expect(rowCount(seen.dom)).toBe(20);
    expect(seen.dom).toContain('kept 25, removed 25 of 50 pairs');
    // the truth is known: the reliability diagram of P(clean) and its ECE. Ten equal bins with mean
    // P(clean) 0.05, 0.15, …, 0.95; the first three bins are all noisy, the rest all clean, so the gaps are
    // 0.05, 0.15, 0.25, 0.65, 0.55, …, 0.05 with equal weights
    expect(seen.dom).toContain('id="reliability"');
    const ece = /ECE ([\d.]+)/.exec(seen.dom);
    expect(Number(ece![1])).toBeCloseTo(
      (0.05 + 0.15 + 0.25 + 0.65 + 0.55 + 0.45 + 0.35 + 0.25 + 0.15 + 0.05) / 10,
      3,
    );
  });

  it('reads an audit folder with a known truth: a noisy column and the reliability diagram', async () => {
    const dir = join(tmp.dir, 'audit-run');
    mkdirSync(dir, { recursive: true });
    const n = 30;
    const p = Array.from({ length: n }, (_, j) => (j < 10 ? 0.1 : 0.9));
    const noisy = Uint8Array.from(p, (v, j) => (v < 0.5 || j === 29 ? 1 : 0)); // one clean-looking noisy pair
    const lines = Array.from({ length: n }, (_, k) => {
      const j = (k * 7) % n; // ranking order differs from pair order
      return JSON.stringify({
        rank: k + 1,
        pair: j,
        id: `k${j}`,
        p_clean: p[j],
        loss: 1 - p[j]!,
        kept: p[j]! > 0.5,
      });
    });
    writeFileSync(join(dir, 'pairs.jsonl'), `${lines.join('\n')}\n`);
    await writeNpy(join(dir, 'noisy.npy'), noisy, [n]);
    writeFileSync(
      join(dir, 'audit.json'),
      JSON.stringify({
        source: 's/',
        method: 'refurb',
        seed: 0,
        epochs: 3,
        pairs: n,
        threshold: 0.5,
        estimatedNoiseRate: 0.367,
        estimatedNoiseRateInterval: [0.3, 0.43],
        kept: 20,
        removed: 10,
      }),
    );
    const seen = openInChromium(await writeHtmlReport(dir), { screenshot: false });
    expect(seen.console).toEqual([]);
    expect(rowCount(seen.dom)).toBe(n);
    expect(seen.dom).toContain('<th data-col="noisy"');
    expect(seen.dom).toContain('36.7 % (95 % interval 30.0 % – 43.0 %)');
    // bins 0.1 (10 pairs, all noisy: gap 0.1) and 0.9 (20 pairs, 19 clean: gap 0.05) → ECE 1/30 + 1/30
    expect(Number(/ECE ([\d.]+)/.exec(seen.dom)![1])).toBeCloseTo(2 / 30, 3);
  });

  it('refuses a folder without per-pair results, naming it', async () => {
    const dir = join(tmp.dir, 'empty');
    mkdirSync(dir, { recursive: true });
    await expect(writeHtmlReport(dir)).rejects.toThrow(CleaveError);
    await expect(writeHtmlReport(dir)).rejects.toThrow(/not a run folder.*audit\.json/);
  });
});
