/**
 * The shared figure helper: SVG and PNG come out well-formed (PNG signature, IHDR size = SVG size ×
 * scale), text is rasterised when the machine has a font (and a warning is logged when it has none),
 * and writeFigure writes both files atomically, refusing protected paths.
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { figureFonts, renderVegaLite, type VegaLiteSpec, writeFigure } from '../../src/core/plot.js';
import { readPng } from './plot-helpers.js';

function spec(title: string): VegaLiteSpec {
  return {
    title,
    width: 200,
    height: 100,
    data: {
      values: [
        { x: 0, y: 1 },
        { x: 1, y: 3 },
        { x: 2, y: 2 },
      ],
    },
    mark: 'line',
    encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
  };
}

function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]*width="(\d+(?:\.\d+)?)"[^>]*height="(\d+(?:\.\d+)?)"/.exec(svg);
  if (!m) throw new Error('no size in SVG');
  return { width: Number(m[1]), height: Number(m[2]) };
}

describe('renderVegaLite', () => {
  it('returns an SVG document and a PNG of the SVG size times the scale', async () => {
    const { svg, png } = await renderVegaLite(spec('Loss split'), { scale: 2 });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Loss split');
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const size = svgSize(svg);
    const img = readPng(png);
    expect(img.width).toBe(Math.round(size.width * 2));
    expect(img.height).toBe(Math.round(size.height * 2));
    expect(png.length).toBeGreaterThan(1000);
  });

  it('rasterises text when a font is available (and says so when none is)', async () => {
    const fonts = figureFonts();
    const withTitle = readPng((await renderVegaLite(spec('A long title with ink'))).png);
    const withoutTitle = readPng((await renderVegaLite(spec(' '))).png);
    const differs = withTitle.pixels.some((v, i) => v !== withoutTitle.pixels[i]);
    // without fonts resvg drops text, so the title changes no pixel; with fonts it must
    expect(differs).toBe(fonts.anyFont);
    if (fonts.anyFont) expect(fonts.family).toBeTypeOf('string');
  });

  it('rejects bad options', async () => {
    await expect(renderVegaLite(spec('x'), { scale: 0 })).rejects.toThrow(/renderVegaLite options/);
  });
});

describe('writeFigure', () => {
  it('writes <base>.svg and <base>.png atomically and refuses protected paths', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cleave-plot-'));
    const paths = await writeFigure(join(dir, 'figs', 'demo.png'), spec('demo'));
    expect(paths).toEqual({ svg: join(dir, 'figs', 'demo.svg'), png: join(dir, 'figs', 'demo.png') });
    expect((await readdir(join(dir, 'figs'))).sort()).toEqual(['demo.png', 'demo.svg']);
    expect((await readFile(paths.svg, 'utf8')).startsWith('<svg')).toBe(true);
    readPng(new Uint8Array(await readFile(paths.png)));
    await expect(writeFigure(join(dir, 'in'), spec('x'), { protect: [join(dir, 'in.png')] })).rejects.toThrow(
      /refusing to write/,
    );
    expect((await readdir(dir)).sort()).toEqual(['figs']); // nothing half-written
  });
});
