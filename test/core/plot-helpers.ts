/** Test helper: a minimal PNG reader (signature, IHDR size, inflated rows) for figure tests. */
import { inflateSync } from 'node:zlib';
import { expect } from 'vitest';

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** Minimal PNG reader: IHDR size and the inflated image rows (to count ink). */
export function readPng(png: Uint8Array): { width: number; height: number; pixels: Uint8Array } {
  expect([...png.slice(0, 8)]).toEqual(PNG_SIGNATURE);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  while (offset < png.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...png.slice(offset + 4, offset + 8));
    const data = png.slice(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
    }
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
    if (type === 'IEND') break;
  }
  return { width, height, pixels: new Uint8Array(inflateSync(Buffer.concat(idat))) };
}
