/**
 * Figures: render a Vega-Lite spec to SVG (vega, headless) and PNG (resvg), and write both atomically.
 *
 * Every figure of cleave (loss histograms, recall curves, reliability plots) goes through here, so
 * they all share one look and one font setup.
 *
 * **Fonts.** The SVG keeps its text as `<text>` elements, so any viewer renders it. The PNG is
 * rasterised by resvg, which needs a font file: the system font folders are searched once per
 * process and a common sans-serif family (DejaVu Sans, Liberation Sans, Noto Sans, Arial, Helvetica)
 * is used for vega's `sans-serif`. On a machine without any font (a bare CI image) the PNG is still
 * written, without text, and a warning says how to fix it (install e.g. `fonts-dejavu-core`, or pass
 * `fontFiles`).
 *
 * @example
 * ```ts
 * import { renderVegaLite, writeFigure } from 'cleave';
 * const spec = {
 *   data: { values: [{ x: 0, y: 1 }, { x: 1, y: 3 }] },
 *   mark: 'line',
 *   encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
 * } as const;
 * const { svg, png } = await renderVegaLite(spec);
 * await writeFigure('out/figures/demo', spec); // out/figures/demo.svg + out/figures/demo.png
 * ```
 */
import { readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { z } from 'zod';
import { CleaveError, parseOrThrow } from './errors.js';
import { assertNotProtected, writeFileAtomic } from './io/atomic.js';
import { getLogger } from './logger.js';

/** vega's logger interface, forwarding to cleave's `plot` logger (so nothing is printed on stdout). */
function vegaLogger() {
  const log = getLogger('plot');
  const format = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? a : String(a))).join(' ');
  const logger = {
    // vega levels: 0 none … 4 debug; report "info" and let pino's own level filter
    level(...set: number[]) {
      return set.length ? logger : 3;
    },
    error(...args: unknown[]) {
      log.error(format(args));
      return logger;
    },
    warn(...args: unknown[]) {
      log.warn(format(args));
      return logger;
    },
    info(...args: unknown[]) {
      log.info(format(args));
      return logger;
    },
    debug(...args: unknown[]) {
      log.debug(format(args));
      return logger;
    },
  };
  return logger;
}

/** A Vega-Lite specification (the `TopLevelSpec` type of the `vega-lite` package). */
export type VegaLiteSpec = TopLevelSpec;

const renderOptionsSchema = z
  .object({
    /** PNG pixels per SVG pixel (2 gives sharp figures on papers and slides). */
    scale: z.number().positive().max(16).default(2),
    /** Extra font files (`.ttf`/`.otf`) for the PNG, e.g. when the machine has no system fonts. */
    fontFiles: z.array(z.string().min(1)).default([]),
    /** Font family used for vega's generic `sans-serif`; by default the first common family found. */
    fontFamily: z.string().min(1).optional(),
  })
  .strict();

/** Options of {@link renderVegaLite} and {@link writeFigure}. */
export type RenderOptions = z.input<typeof renderOptionsSchema>;

/** A rendered figure. */
export interface RenderedFigure {
  /** The SVG document (text kept as text). */
  svg: string;
  /** The PNG file bytes (starts with the 8-byte PNG signature). */
  png: Uint8Array;
}

/** Families tried in order for vega's `sans-serif`, each with file-name stems that identify it. */
const PREFERRED_FAMILIES: readonly { family: string; files: readonly string[] }[] = [
  { family: 'DejaVu Sans', files: ['dejavusans.ttf'] },
  { family: 'Liberation Sans', files: ['liberationsans-regular.ttf'] },
  { family: 'Noto Sans', files: ['notosans-regular.ttf', 'notosans-regular.otf'] },
  { family: 'Arial', files: ['arial.ttf'] },
  { family: 'Helvetica', files: ['helvetica.ttc', 'helvetica.ttf'] },
];

interface FontSetup {
  /** Any font file was found on the system. */
  anyFont: boolean;
  /** The preferred family found, if any. */
  family: string | undefined;
}

let fontSetup: FontSetup | undefined;
let warnedNoFont = false;

function fontDirectories(): string[] {
  const home = homedir();
  if (process.platform === 'darwin') {
    return ['/System/Library/Fonts', '/Library/Fonts', join(home, 'Library/Fonts')];
  }
  if (process.platform === 'win32') {
    return [join(process.env.WINDIR ?? 'C:\\Windows', 'Fonts')];
  }
  return [
    '/usr/share/fonts',
    '/usr/local/share/fonts',
    join(home, '.fonts'),
    join(home, '.local/share/fonts'),
  ];
}

/** Scan the system font folders once (depth-limited) for font files and a preferred family. */
function discoverFonts(): FontSetup {
  if (fontSetup) return fontSetup;
  const names = new Set<string>();
  const walk = (dir: string, depth: number): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = join(dir, entry);
      const lower = entry.toLowerCase();
      if (/\.(ttf|otf|ttc)$/.test(lower)) {
        names.add(lower);
      } else if (depth < 4) {
        try {
          if (statSync(full).isDirectory()) walk(full, depth + 1);
        } catch {
          // unreadable entry: skip
        }
      }
    }
  };
  for (const dir of fontDirectories()) walk(dir, 0);
  const preferred = PREFERRED_FAMILIES.find((f) => f.files.some((file) => names.has(file)));
  fontSetup = { anyFont: names.size > 0, family: preferred?.family };
  return fontSetup;
}

/**
 * What the PNG renderer will use for text on this machine (the system font folders are scanned once).
 *
 * @returns `anyFont`: whether any font file was found; `family`: the family used for `sans-serif`
 *
 * @example
 * ```ts
 * if (!figureFonts().anyFont) console.warn('PNG figures will have no text');
 * ```
 */
export function figureFonts(): { anyFont: boolean; family: string | undefined } {
  return { ...discoverFonts() };
}

/**
 * Render a Vega-Lite spec to SVG and PNG.
 *
 * The spec is compiled with vega-lite, run in a headless vega `View` (no browser, no canvas: text
 * widths are estimated), serialised to SVG and rasterised by resvg.
 *
 * @param spec a Vega-Lite top-level spec (data inline; no URLs are fetched)
 * @param options PNG `scale` (default 2), extra `fontFiles`, and the `fontFamily` used for `sans-serif`
 * @returns `{ svg, png }`
 * @throws ConfigError when `options` are invalid; vega's own errors for an invalid spec
 *
 * @example
 * ```ts
 * const { png } = await renderVegaLite({ data: { values: [{ a: 1 }] }, mark: 'point',
 *   encoding: { x: { field: 'a', type: 'quantitative' } } });
 * ```
 */
export async function renderVegaLite(
  spec: VegaLiteSpec,
  options: RenderOptions = {},
): Promise<RenderedFigure> {
  const opts = parseOrThrow(renderOptionsSchema, options, 'renderVegaLite options');
  const logger = vegaLogger();
  const vegaSpec = compile(spec, { logger }).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none', logger });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }

  const fonts = discoverFonts();
  const family = opts.fontFamily ?? fonts.family;
  if (!fonts.anyFont && opts.fontFiles.length === 0 && !warnedNoFont) {
    warnedNoFont = true;
    getLogger('plot').warn(
      'no system fonts found: PNG figures will have no text (the SVG files are complete); ' +
        'install a font (e.g. `apt-get install fonts-dejavu-core`) or pass fontFiles',
    );
  }
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: opts.scale },
    font: {
      loadSystemFonts: true,
      fontFiles: opts.fontFiles,
      ...(family ? { defaultFontFamily: family, sansSerifFamily: family } : {}),
    },
  });
  const png = new Uint8Array(resvg.render().asPng());
  return { svg, png };
}

/** Where {@link writeFigure} wrote a figure. */
export interface FigurePaths {
  svg: string;
  png: string;
}

/**
 * Render a Vega-Lite spec and write `<basePath>.svg` and `<basePath>.png`, each atomically
 * (temp file + rename; folders are created).
 *
 * @param basePath the output path without extension (a trailing `.svg`/`.png` is dropped)
 * @param spec the Vega-Lite spec
 * @param options render options, plus `protect`: paths that must never be overwritten (a run's inputs)
 * @returns the two paths written
 *
 * @example
 * ```ts
 * const paths = await writeFigure('runs/7/loss-split', mixturePlotSpec(losses, bmm));
 * console.log(paths.png);
 * ```
 */
export async function writeFigure(
  basePath: string,
  spec: VegaLiteSpec,
  options: RenderOptions & { protect?: readonly string[] } = {},
): Promise<FigurePaths> {
  const { protect, ...renderOptions } = options;
  const base = /\.(svg|png)$/i.test(basePath) ? basePath.slice(0, -4) : basePath;
  if (basename(base) === '') throw new CleaveError(`writeFigure: '${basePath}' names a folder, not a file`);
  const paths = { svg: `${base}.svg`, png: `${base}.png` };
  // Check both before writing either, so a refusal leaves nothing behind.
  assertNotProtected(paths.svg, protect ?? []);
  assertNotProtected(paths.png, protect ?? []);
  const { svg, png } = await renderVegaLite(spec, renderOptions);
  const atomicOptions = protect ? { protect } : {};
  await writeFileAtomic(paths.svg, svg, atomicOptions);
  await writeFileAtomic(paths.png, png, atomicOptions);
  return paths;
}
