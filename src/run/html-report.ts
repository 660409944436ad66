/**
 * `report.html`: one self-contained page to browse a run — no server, no network at view time (the
 * figures are inlined SVG, the rows inlined JSON, the script and style inline; only the thumbnails
 * load from the pairs' own URLs, and a link that fails shows the caption alone).
 *
 * What the page shows:
 * - the run's key numbers (pairs, estimated noise rate, kept/removed, truth metrics when known);
 * - the figures the run wrote (`mixture.svg`: loss histogram + fitted mixture; `posterior.svg`);
 * - a histogram of every score column (P(clean), loss, input cosine, uncertainty), kept vs removed;
 * - a **threshold slider**: kept/removed counts (over every pair) and the table's `kept` marks follow it;
 * - the most suspicious pairs (up to `maxRows`, most suspicious first) as a table sortable by any column
 *   (click a header) and filterable by text (id, caption, url) and by kept/removed, with a lazy
 *   thumbnail per row (an image that fails to load is removed: the row keeps its caption);
 * - a link can open a view: `report.html#threshold=0.3&filter=shirt&show=removed&sort=-loss`.
 *
 * Written by `auditPairs` and `trainAndReport` (when the noise truth is known); `cleave report <dir>`
 * (re)writes it from a run folder with {@link writeHtmlReport}.
 *
 * @example
 * ```ts
 * import { writeHtmlReport } from 'cleave/run';
 * const path = await writeHtmlReport('runs/audit');   // runs/audit/report.html
 * ```
 */
import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { CleaveError, DataError } from '../core/errors.js';
import { writeFileAtomic } from '../core/io/atomic.js';
import { readCsv } from '../core/io/csv.js';
import { readNpy } from '../core/io/npy.js';
import { VERSION } from '../core/version.js';
import { type Calibration, expectedCalibrationError } from '../eval/uncertainty.js';

/** A cell of the report's table. */
export type HtmlCell = string | number | boolean | null;

/** Everything {@link renderHtmlReport} puts on the page. */
export interface HtmlReportData {
  /** Page title (also the heading). */
  title: string;
  /** Key numbers, in order: label → value (already formatted). */
  facts: [string, string][];
  /** Figures to inline: a caption and the SVG markup (from the run's `*.svg`). */
  figures: { title: string; svg: string }[];
  /** Table columns; `p_clean` is required (the threshold acts on it). */
  columns: string[];
  /** Table rows (most suspicious first), one cell per column. */
  rows: HtmlCell[][];
  /** P(clean) of **every** pair (the slider's kept/removed counts; the table may hold fewer rows). */
  pClean: number[];
  /** Initial threshold: a pair is kept iff P(clean) > threshold. */
  threshold: number;
  /** Numeric columns drawn as histograms (default: every numeric column but rank and pair). */
  scoreColumns?: string[];
  /** Column notes shown under the table (column → what it means). */
  notes?: Record<string, string>;
  /**
   * With a known truth: the reliability of P(clean) (`expectedCalibrationError` of every pair), drawn
   * as a reliability diagram (mean P(clean) vs the share of clean pairs per bin) with its ECE.
   */
  calibration?: Calibration;
}

/** Options of {@link writeHtmlReport}. */
export interface WriteHtmlReportOptions {
  /** Most rows in the table (the most suspicious ones); default 5000. */
  maxRows?: number;
  /** Input files that must never be written. */
  protect?: readonly string[];
}

/** JSON safe inside a `<script>` element (no `</script>`, no `<!--`). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))
    .replaceAll('<', '\\u003c')
    .replaceAll('\u2028', '\\u2028')
    .replaceAll('\u2029', '\\u2029');
}

function escapeHtml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** The SVG element of an SVG file (prolog, doctype and scripts dropped). */
function inlineSvg(svg: string): string {
  const start = svg.indexOf('<svg');
  if (start < 0) return '';
  return svg.slice(start).replace(/<script[\s\S]*?<\/script>/gi, '');
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:1400px}
h1{font-size:1.4em;margin:0 0 .5em}h2{font-size:1.1em;margin:1.2em 0 .4em}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;margin:0}
dl.facts dt{color:#555}dl.facts dd{margin:0;font-variant-numeric:tabular-nums}
.figs{display:flex;flex-wrap:wrap;gap:1em}.figs figure{margin:0}.figs svg{max-width:100%;height:auto}
.figs figcaption{color:#555;font-size:.9em}
.controls{display:flex;flex-wrap:wrap;gap:1em;align-items:center;margin:.6em 0;position:sticky;top:0;background:#fff;padding:.4em 0;z-index:1}
#counts{font-variant-numeric:tabular-nums;font-weight:600}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{cursor:pointer;user-select:none;background:#f4f4f4;position:sticky;top:2.6em}th.asc::after{content:" \\25B2"}th.desc::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.removed{background:#fdecea}td.thumb img{width:72px;height:72px;object-fit:cover;display:block}
td.caption{max-width:40em}.muted{color:#777;font-size:.9em}.hist{display:flex;flex-wrap:wrap;gap:1em}
`;

/** The page's script: reads the inlined JSON, builds histograms and the table, wires the controls. */
const SCRIPT = String.raw`
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('cleave-data').textContent);
  var cols = D.columns, P = D.pClean, pCol = cols.indexOf('p_clean');
  var urlCol = cols.indexOf('url'), capCol = cols.indexOf('caption');
  var thr = D.threshold, sortCol = -1, sortDir = 1, shown = 500;
  var slider = document.getElementById('threshold'), thrOut = document.getElementById('thr-value');
  var counts = document.getElementById('counts'), filter = document.getElementById('filter');
  var which = document.getElementById('which'), body = document.getElementById('rows');
  var more = document.getElementById('more'), status = document.getElementById('status');
  var SVGNS = 'http://www.w3.org/2000/svg';
  function fmt(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number') return Number.isInteger(v) ? String(v) : (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(2));
    return String(v);
  }
  function keptAt(p) { return p > thr; }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svgEl(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  // histograms of the score columns, kept (blue) stacked under removed (red) at the threshold
  var hist = document.getElementById('hist');
  function drawHistograms() {
    hist.textContent = '';
    D.scoreColumns.forEach(function (name) {
      var c = cols.indexOf(name);
      var vals = [], flags = [];
      D.rows.forEach(function (r) { if (typeof r[c] === 'number' && isFinite(r[c])) { vals.push(r[c]); flags.push(keptAt(r[pCol])); } });
      if (!vals.length) return;
      var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals);
      if (name === 'p_clean') { lo = 0; hi = 1; }
      if (hi <= lo) hi = lo + 1;
      var B = 30, kept = new Array(B).fill(0), rem = new Array(B).fill(0);
      vals.forEach(function (v, i) {
        var b = Math.min(B - 1, Math.max(0, Math.floor((v - lo) / (hi - lo) * B)));
        (flags[i] ? kept : rem)[b]++;
      });
      var top = 1;
      for (var b = 0; b < B; b++) top = Math.max(top, kept[b] + rem[b]);
      var W = 300, H = 140, bw = W / B;
      var svg = svgEl('svg', { width: W + 20, height: H + 36, viewBox: '0 0 ' + (W + 20) + ' ' + (H + 36), role: 'img' });
      svg.setAttribute('aria-label', 'histogram of ' + name);
      for (b = 0; b < B; b++) {
        var hk = kept[b] / top * H, hr = rem[b] / top * H;
        svg.appendChild(svgEl('rect', { x: 10 + b * bw, y: H - hk, width: bw - 1, height: hk, fill: '#1f77b4' }));
        svg.appendChild(svgEl('rect', { x: 10 + b * bw, y: H - hk - hr, width: bw - 1, height: hr, fill: '#d62728' }));
      }
      var t1 = svgEl('text', { x: 10, y: H + 14, 'font-size': 11 }); t1.textContent = fmt(lo);
      var t2 = svgEl('text', { x: W + 10, y: H + 14, 'font-size': 11, 'text-anchor': 'end' }); t2.textContent = fmt(hi);
      var t3 = svgEl('text', { x: 10 + W / 2, y: H + 30, 'font-size': 12, 'text-anchor': 'middle' });
      t3.textContent = name + ' (' + vals.length + ' pairs; blue kept, red removed)';
      svg.appendChild(t1); svg.appendChild(t2); svg.appendChild(t3);
      hist.appendChild(svg);
    });
  }
  // reliability diagram: per bin, mean P(clean) (x) vs share of truly clean pairs (y); diagonal = calibrated
  function drawReliability() {
    if (!D.calibration) return;
    var S = 200, pad = 30;
    var svg = svgEl('svg', { width: S + 2 * pad, height: S + 2 * pad, role: 'img', id: 'reliability' });
    svg.setAttribute('aria-label', 'reliability diagram');
    svg.appendChild(svgEl('rect', { x: pad, y: pad, width: S, height: S, fill: 'none', stroke: '#999' }));
    svg.appendChild(svgEl('line', { x1: pad, y1: pad + S, x2: pad + S, y2: pad, stroke: '#999', 'stroke-dasharray': '4 3' }));
    var total = 0;
    D.calibration.bins.forEach(function (b) { total += b[2]; });
    D.calibration.bins.forEach(function (b) {
      if (!b[2]) return;
      var w = (b[1] - b[0]) * S;
      svg.appendChild(svgEl('rect', { x: pad + b[0] * S + 1, y: pad + S - b[4] * S, width: w - 2, height: b[4] * S, fill: '#1f77b4', opacity: 0.35 }));
      svg.appendChild(svgEl('circle', { cx: pad + b[3] * S, cy: pad + S - b[4] * S, r: 2 + 4 * Math.sqrt(b[2] / Math.max(1, total)), fill: '#d62728' }));
    });
    var t = svgEl('text', { x: pad + S / 2, y: pad + S + 20, 'font-size': 12, 'text-anchor': 'middle' });
    t.textContent = 'P(clean); share truly clean (bars, dots at mean P) - ECE ' + (D.calibration.ece === null ? 'n/a' : D.calibration.ece.toFixed(3));
    var t2 = svgEl('text', { x: pad, y: pad - 8, 'font-size': 12 });
    t2.textContent = 'reliability of P(clean) against the truth';
    svg.appendChild(t); svg.appendChild(t2);
    document.getElementById('calibration').appendChild(svg);
  }
  function updateCounts() {
    var k = 0;
    for (var i = 0; i < P.length; i++) if (keptAt(P[i])) k++;
    counts.textContent = 'kept ' + k + ', removed ' + (P.length - k) + ' of ' + P.length + ' pairs (' + (100 * (P.length - k) / Math.max(1, P.length)).toFixed(1) + ' % removed)';
    thrOut.textContent = thr.toFixed(2);
  }
  // header
  var head = document.getElementById('head');
  cols.forEach(function (name, c) {
    var th = el('th', { 'data-col': name, title: (D.notes && D.notes[name]) || 'sort by ' + name }, name);
    th.addEventListener('click', function () {
      if (sortCol === c) sortDir = -sortDir; else { sortCol = c; sortDir = 1; }
      Array.prototype.forEach.call(head.children, function (h) { h.className = ''; });
      th.className = sortDir > 0 ? 'asc' : 'desc';
      render();
    });
    head.appendChild(th);
  });
  if (urlCol >= 0) head.insertBefore(el('th', null, 'image'), head.firstChild);
  function matches(r) {
    var w = which.value;
    if (w === 'kept' && !keptAt(r[pCol])) return false;
    if (w === 'removed' && keptAt(r[pCol])) return false;
    var q = filter.value.trim().toLowerCase();
    if (!q) return true;
    for (var c = 0; c < r.length; c++) if (typeof r[c] === 'string' && r[c].toLowerCase().indexOf(q) >= 0) return true;
    return false;
  }
  function cmp(a, b) {
    var x = a[sortCol], y = b[sortCol];
    if (x === y) return 0;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    return (x < y ? -1 : 1) * sortDir;
  }
  function thumb(url) {
    var td = el('td', { class: 'thumb' });
    if (typeof url === 'string' && /^(https?:|data:image\/)/i.test(url)) {
      var img = el('img', { loading: 'lazy', alt: '', referrerpolicy: 'no-referrer', decoding: 'async' });
      img.addEventListener('error', function () { img.remove(); });
      img.src = url;
      td.appendChild(img);
    }
    return td;
  }
  function render() {
    var list = D.rows.filter(matches);
    if (sortCol >= 0) list = list.slice().sort(cmp);
    body.textContent = '';
    var frag = document.createDocumentFragment();
    list.slice(0, shown).forEach(function (r) {
      var kept = keptAt(r[pCol]);
      var tr = el('tr', { class: kept ? 'kept' : 'removed' });
      if (urlCol >= 0) tr.appendChild(thumb(r[urlCol]));
      r.forEach(function (v, c) {
        var name = cols[c];
        if (name === 'kept') v = kept;
        var td = el('td', { class: typeof v === 'number' ? 'num' : name === 'caption' ? 'caption' : '' });
        if (name === 'url' && typeof v === 'string' && /^https?:/i.test(v)) {
          var a = el('a', { href: v, rel: 'noreferrer noopener', target: '_blank' }, v.length > 48 ? v.slice(0, 45) + '...' : v);
          td.appendChild(a);
        } else td.textContent = fmt(v);
        tr.appendChild(td);
      });
      frag.appendChild(tr);
    });
    body.appendChild(frag);
    status.textContent = 'showing ' + Math.min(shown, list.length) + ' of ' + list.length + ' matching rows (' + D.rows.length + ' in this report, ' + P.length + ' pairs in all)';
    more.hidden = list.length <= shown;
  }
  // a link can carry the view: #threshold=0.3&filter=shirt&show=removed&sort=-loss
  var hash = {};
  location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
    var i = kv.indexOf('=');
    if (i > 0) hash[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1));
  });
  if (hash.threshold !== undefined && isFinite(Number(hash.threshold))) thr = Math.min(1, Math.max(0, Number(hash.threshold)));
  if (hash.filter) filter.value = hash.filter;
  if (hash.show === 'kept' || hash.show === 'removed') which.value = hash.show;
  if (hash.sort) {
    var desc = hash.sort.charAt(0) === '-', name = desc ? hash.sort.slice(1) : hash.sort;
    sortCol = cols.indexOf(name); sortDir = desc ? -1 : 1;
    if (sortCol >= 0) head.querySelector('[data-col="' + name + '"]').className = desc ? 'desc' : 'asc';
  }
  slider.value = String(thr);
  slider.addEventListener('input', function () { thr = Number(slider.value); updateCounts(); drawHistograms(); render(); });
  filter.addEventListener('input', function () { shown = 500; render(); });
  which.addEventListener('change', function () { shown = 500; render(); });
  more.addEventListener('click', function () { shown += 500; render(); });
  updateCounts();
  drawHistograms();
  drawReliability();
  render();
  document.body.setAttribute('data-ready', '1');
})();
`;

/**
 * The HTML of a report page (see the module documentation); a pure function.
 *
 * @throws RangeError when `columns` has no `p_clean`, or a row's length differs from the columns'
 *
 * @example
 * ```ts
 * const html = renderHtmlReport({
 *   title: 'audit of scraped/', facts: [['pairs', '3']], figures: [],
 *   columns: ['rank', 'id', 'p_clean'], rows: [[1, 'a', 0.1], [2, 'b', 0.7], [3, 'c', 0.9]],
 *   pClean: [0.9, 0.1, 0.7], threshold: 0.5,
 * });
 * ```
 */
export function renderHtmlReport(data: HtmlReportData): string {
  if (!data.columns.includes('p_clean')) throw new RangeError('renderHtmlReport: columns need p_clean');
  for (const [k, r] of data.rows.entries()) {
    if (r.length !== data.columns.length) {
      throw new RangeError(
        `renderHtmlReport: row ${k} has ${r.length} cells for ${data.columns.length} columns`,
      );
    }
  }
  const scoreColumns =
    data.scoreColumns ??
    data.columns.filter(
      (c, i) =>
        !['rank', 'pair', 'noisy', 'kept'].includes(c) && data.rows.some((r) => typeof r[i] === 'number'),
    );
  const payload = {
    columns: data.columns,
    rows: data.rows,
    pClean: data.pClean.map((p) => Math.round(p * 1e6) / 1e6),
    threshold: data.threshold,
    scoreColumns,
    notes: data.notes ?? {},
    calibration: data.calibration
      ? {
          ece: data.calibration.ece,
          bins: data.calibration.bins.map((b) => [
            b.lower,
            b.upper,
            b.count,
            b.meanPosterior,
            b.cleanFraction,
          ]),
        }
      : null,
  };
  const facts = data.facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('');
  const figures = data.figures
    .map((f) => `<figure>${inlineSvg(f.svg)}<figcaption>${escapeHtml(f.title)}</figcaption></figure>`)
    .join('\n');
  const notes = Object.entries(data.notes ?? {})
    .filter(([c]) => data.columns.includes(c))
    .map(([c, n]) => `<li><code>${escapeHtml(c)}</code>: ${escapeHtml(n)}</li>`)
    .join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="cleave ${escapeHtml(VERSION)}">
<title>${escapeHtml(data.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(data.title)}</h1>
<dl class="facts">${facts}</dl>
${figures ? `<h2>Figures</h2>\n<div class="figs">${figures}</div>` : ''}
<h2>Score distributions</h2>
<div class="hist" id="hist"></div>
${data.calibration ? '<h2>Calibration</h2>\n<div id="calibration"></div>' : ''}
<h2>Pairs, most suspicious first</h2>
<div class="controls">
<label>threshold <input type="range" id="threshold" min="0" max="1" step="0.01"> <output id="thr-value"></output></label>
<span id="counts"></span>
<label>filter <input type="search" id="filter" placeholder="id, caption or url"></label>
<label>show <select id="which"><option value="all">all</option><option value="removed">removed</option><option value="kept">kept</option></select></label>
</div>
<table id="pairs"><thead><tr id="head"></tr></thead><tbody id="rows"></tbody></table>
<p class="muted"><span id="status"></span> <button type="button" id="more" hidden>show more</button></p>
${notes ? `<ul class="muted">${notes}</ul>` : ''}
<p class="muted">A pair is kept iff P(clean) &gt; threshold. Click a header to sort; thumbnails load from the pairs' URLs (a broken link shows the caption alone). Written by cleave ${escapeHtml(VERSION)}.</p>
<script type="application/json" id="cleave-data">${scriptJson(payload)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new DataError(`not readable JSON (${(e as Error).message}); rerun the command that wrote it`, {
      file: path,
    });
  }
}

async function figuresOf(dir: string, names: [string, string][]): Promise<HtmlReportData['figures']> {
  const out: HtmlReportData['figures'] = [];
  for (const [file, title] of names) {
    const p = join(dir, file);
    if (await exists(p)) out.push({ title, svg: await readFile(p, 'utf8') });
  }
  return out;
}

/** Column notes shared by the audit's files and the report. */
export const COLUMN_NOTES: Record<string, string> = {
  rank: '1 = most suspicious',
  pair: 'index of the pair in the input (0-based)',
  id: 'metadata key, else the pair index: the join key of kept-ids.txt',
  p_clean:
    'P(clean) from the split (local-fdr on a shared space, else the mixture); kept iff above the threshold',
  input_cosine:
    'cosine of the given image and caption embeddings (the CLIP-score), when both sides share one space',
  learned_loss:
    "the trained model's own per-pair loss, before its blend with the input-space score into loss (shared space)",
  uncertainty:
    "mean σ² of the pair's image and caption relative to the dataset's median (1 = typical, 2 = twice as uncertain)",
  loss: 'the per-pair score the split was fitted to (higher = worse); on a shared space the input-space score blended with learned_loss',
  kept: 'P(clean) > threshold',
  noisy: 'ground truth: 1 = the pair was made noisy',
};

const pct = (x: unknown) => (typeof x === 'number' ? `${(100 * x).toFixed(1)} %` : 'n/a');
const num = (x: unknown, digits = 3) => (typeof x === 'number' ? x.toFixed(digits) : 'n/a');

/** The ranking of an audit folder, from the first of pairs.jsonl / pairs.parquet / pairs.csv there. */
async function auditRows(dir: string): Promise<{ columns: string[]; rows: HtmlCell[][] }> {
  const jsonl = join(dir, 'pairs.jsonl');
  const parquet = join(dir, 'pairs.parquet');
  const csv = join(dir, 'pairs.csv');
  if (await exists(jsonl)) {
    const objects = (await readFile(jsonl, 'utf8'))
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, HtmlCell>);
    const columns = Object.keys(objects[0] ?? {});
    return { columns, rows: objects.map((o) => columns.map((c) => o[c] ?? null)) };
  }
  if (await exists(parquet)) {
    const objects = (await parquetReadObjects({ file: await asyncBufferFromFile(parquet) })) as Record<
      string,
      unknown
    >[];
    const columns = Object.keys(objects[0] ?? {});
    const cell = (v: unknown): HtmlCell =>
      typeof v === 'bigint' ? Number(v) : v === undefined ? null : (v as HtmlCell);
    return { columns, rows: objects.map((o) => columns.map((c) => cell(o[c]))) };
  }
  if (await exists(csv)) {
    const table = await readCsv(csv);
    const numeric = new Set([
      'rank',
      'pair',
      'p_clean',
      'input_cosine',
      'uncertainty',
      'loss',
      'learned_loss',
    ]);
    return {
      columns: table.header,
      rows: table.rows.map((r) =>
        r.map((v, i) => {
          const c = table.header[i]!;
          if (c === 'kept') return v === 'true';
          if (numeric.has(c)) return v === '' ? null : Number(v);
          return v;
        }),
      ),
    };
  }
  throw new DataError('no pairs.jsonl, pairs.parquet or pairs.csv here; rerun cleave audit', { file: dir });
}

/**
 * The page data of a run folder: an audit (`audit.json` + `pairs.*`) or a train run with per-pair
 * posteriors (`report.json` + `posteriors.npy`, and `noisy.npy` when the noise is known).
 *
 * @throws CleaveError when the folder holds neither
 *
 * @example
 * ```ts
 * const data = await htmlReportData('runs/audit');
 * data.rows.length;
 * ```
 */
export async function htmlReportData(
  runDir: string,
  options: { maxRows?: number } = {},
): Promise<HtmlReportData> {
  const dir = resolve(runDir);
  const maxRows = options.maxRows ?? 5000;
  if (await exists(join(dir, 'audit.json'))) {
    const s = await readJson(join(dir, 'audit.json'));
    const ranking = await auditRows(dir);
    let { columns, rows } = ranking;
    const pCol = columns.indexOf('p_clean');
    if (pCol < 0) throw new DataError('the ranking has no p_clean column; rerun cleave audit', { file: dir });
    // with a known truth (noisy.npy, pair order): a truth column and the reliability of P(clean)
    let calibration: Calibration | undefined;
    const pairCol = columns.indexOf('pair');
    if ((await exists(join(dir, 'noisy.npy'))) && pairCol >= 0) {
      const noisy = Array.from((await readNpy(join(dir, 'noisy.npy'))).data as ArrayLike<number>, Number);
      if (noisy.length === rows.length) {
        columns = [...columns, 'noisy'];
        rows = rows.map((r) => [...r, noisy[Number(r[pairCol])]!]);
        calibration = expectedCalibrationError(
          rows.map((r) => Number(r[pCol])),
          rows.map((r) => Number(r.at(-1))),
        );
      }
    }
    const truth = s.truth as Record<string, unknown> | undefined;
    const facts: [string, string][] = [
      ['source', String(s.source)],
      ['method', `${s.method} (seed ${s.seed}, ${s.epochs} epochs)`],
      ['pairs', String(s.pairs)],
      [
        'estimated noise rate',
        `${pct(s.estimatedNoiseRate)}${Array.isArray(s.estimatedNoiseRateInterval) ? ` (95 % interval ${(s.estimatedNoiseRateInterval as number[]).map((v) => pct(v)).join(' – ')})` : ''}`,
      ],
      [`kept / removed at ${s.threshold}`, `${s.kept} / ${s.removed}`],
    ];
    if (typeof s.inputCosineAuc === 'number') facts.push(['input-cosine AUC (truth)', num(s.inputCosineAuc)]);
    if (truth) {
      facts.push(
        ['true noise rate', pct(truth.trueNoiseRate)],
        ['ROC-AUC / AP (truth)', `${num(truth.auc)} / ${num(truth.ap)}`],
        ['precision / recall of removed (truth)', `${num(truth.precision)} / ${num(truth.recall)}`],
        ['ECE of P(clean) (truth)', num(truth.ece)],
      );
    }
    const figures = await figuresOf(dir, [
      ['mixture.svg', 'per-pair loss: histogram and fitted mixture'],
      ['posterior.svg', 'P(clean) of every pair, with the threshold'],
      ['calibration.svg', 'reliability of P(clean) against the truth'],
    ]);
    // the written reliability figure makes the page's own diagram redundant
    if (figures.some((f) => f.title.startsWith('reliability'))) calibration = undefined;
    return {
      title: `cleave audit: ${String(s.source)}`,
      facts,
      figures,
      columns,
      rows: rows.slice(0, maxRows),
      pClean: rows.map((r) => Number(r[pCol])),
      threshold: typeof s.threshold === 'number' ? s.threshold : 0.5,
      notes: COLUMN_NOTES,
      ...(calibration ? { calibration } : {}),
    };
  }
  if ((await exists(join(dir, 'report.json'))) && (await exists(join(dir, 'posteriors.npy')))) {
    const r = await readJson(join(dir, 'report.json'));
    const post = Array.from((await readNpy(join(dir, 'posteriors.npy'))).data as ArrayLike<number>, Number);
    const noisy = (await exists(join(dir, 'noisy.npy')))
      ? Array.from((await readNpy(join(dir, 'noisy.npy'))).data as ArrayLike<number>, Number)
      : undefined;
    const order = Array.from(post.keys()).sort((a, b) => post[a]! - post[b]! || a - b);
    const columns = ['rank', 'pair', 'p_clean', 'kept', ...(noisy ? ['noisy'] : [])];
    const rows: HtmlCell[][] = order.map((j, k) => [
      k + 1,
      j,
      post[j]!,
      post[j]! > 0.5,
      ...(noisy ? [noisy[j]!] : []),
    ]);
    const split = r.split as Record<string, unknown> | undefined;
    const test = r.test as Record<string, unknown> | undefined;
    const noise = r.noise as Record<string, unknown> | null | undefined;
    const facts: [string, string][] = [
      ['data', String((r.dataset as Record<string, unknown> | undefined)?.source ?? '')],
      ['method', `${r.method} (seed ${r.seed})`],
      ['noise', noise ? `${pct(noise.rate)} ${String(noise.kind)}` : 'none injected'],
      ['training pairs', String(post.length)],
      ['test rSum', num(test?.rsum, 1)],
    ];
    if (split) {
      facts.push(
        ['estimated / true noise rate', `${pct(split.estimatedNoiseRate)} / ${pct(split.trueNoiseRate)}`],
        ['ROC-AUC / AP (truth)', `${num(split.auc)} / ${num(split.ap)}`],
        ['precision / recall of removed', `${num(split.precision)} / ${num(split.recall)}`],
        ['ECE of P(clean)', num(split.ece)],
      );
    }
    const figures = await figuresOf(dir, [
      ['mixture.svg', 'per-pair loss: histogram and fitted mixture'],
      ['calibration.svg', 'reliability of P(clean) against the truth'],
    ]);
    const drawn = figures.some((f) => f.title.startsWith('reliability'));
    return {
      title: `cleave train: ${String(r.method)}`,
      facts,
      figures,
      columns,
      rows: rows.slice(0, maxRows),
      pClean: post,
      threshold: 0.5,
      notes: COLUMN_NOTES,
      ...(noisy && noisy.length === post.length && !drawn
        ? { calibration: expectedCalibrationError(post, noisy) }
        : {}),
    };
  }
  throw new CleaveError(
    `${runDir}: not a run folder with per-pair results (no audit.json, and no report.json with posteriors.npy); give the --out folder of cleave audit or of cleave train with a splitting method`,
  );
}

/**
 * (Re)write `<runDir>/report.html` from the run's files (see {@link htmlReportData}), atomically.
 * @returns the path written
 * @throws CleaveError when the folder is not a run folder with per-pair results
 *
 * @example
 * ```ts
 * await writeHtmlReport('runs/audit', { maxRows: 2000 });
 * ```
 */
export async function writeHtmlReport(runDir: string, options: WriteHtmlReportOptions = {}): Promise<string> {
  const data = await htmlReportData(
    runDir,
    options.maxRows !== undefined ? { maxRows: options.maxRows } : {},
  );
  const path = join(resolve(runDir), 'report.html');
  await writeFileAtomic(path, renderHtmlReport(data), { protect: options.protect ?? [] });
  return path;
}
