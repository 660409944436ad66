import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../../src/core/errors.js';
import { float16ToFloat32, float32ToFloat16, toFloat16Bits } from '../../../src/core/io/float16.js';
import {
  encodeNpy,
  type NpyData,
  parseNpy,
  readNpy,
  readNpyHeader,
  writeNpy,
} from '../../../src/core/io/npy.js';
import type { NpyDtype } from '../../../src/core/io/npy-header.js';
import { tempDir } from './tempdir.js';

// Fixtures written by NumPy: test/reference/npy_fixtures.py
const FIXTURES = join(import.meta.dirname, '../../reference/fixtures/io');

interface Case {
  file: string;
  descr: string;
  shape: number[];
  fortran: boolean;
  version: string;
  dataSha256: string;
  values?: (number | string | boolean)[];
  samples?: Record<string, number>;
  sum?: number;
  error?: string;
}

const { cases } = JSON.parse(await readFile(join(FIXTURES, 'npy_cases.json'), 'utf8')) as { cases: Case[] };
const byFile = new Map(cases.map((c) => [c.file.replace('.npy', ''), c]));
const good = cases.filter((c) => !c.error);

function expectedNumber(v: number | string | boolean): number | bigint {
  if (v === 'nan') return Number.NaN;
  if (v === 'inf') return Number.POSITIVE_INFINITY;
  if (v === '-inf') return Number.NEGATIVE_INFINITY;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') return BigInt(v);
  return v;
}

function sha256(data: ArrayBufferView): string {
  return createHash('sha256')
    .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    .digest('hex');
}

const DTYPE: Record<string, NpyDtype> = {
  '<f2': 'float16',
  '<f4': 'float32',
  '<f8': 'float64',
  '<i4': 'int32',
  '<i8': 'int64',
  '|u1': 'uint8',
  '|b1': 'bool',
};

describe('readNpy against files written by NumPy', () => {
  it.each(good.map((c) => [c.file, c] as const))('%s', async (_name, c) => {
    const arr = await readNpy(join(FIXTURES, c.file), { checkFinite: c.file !== 'f2_special.npy' });
    expect(arr.dtype).toBe(DTYPE[c.descr]);
    expect(arr.shape).toEqual(c.shape);
    expect(arr.fortranOrder).toBe(c.fortran);
    expect(arr.version).toBe(c.version);
    const flat = Array.from(arr.data as ArrayLike<number | bigint>);
    if (c.values) {
      expect(flat.length).toBe(c.values.length);
      c.values.forEach((v, i) => {
        expect(Object.is(flat[i], expectedNumber(v)) || flat[i] === expectedNumber(v)).toBe(true);
      });
    }
    if (c.samples) {
      for (const [i, v] of Object.entries(c.samples)) expect(flat[Number(i)]).toBe(v);
      let sum = 0;
      for (const x of flat) sum += Number(x);
      expect(sum).toBeCloseTo(c.sum!, 6);
    }
    // The C-order data bytes equal NumPy's (float16 is widened on read, so compare it re-encoded).
    const data = arr.dtype === 'float16' ? float32ToFloat16(arr.data as Float32Array) : arr.data;
    expect(sha256(data)).toBe(c.dataSha256);
  });

  it('reads a real NumPy v1 file from a published repository (Myntra FashionCLIP embeddings)', async () => {
    const arr = await readNpy(join(FIXTURES, 'myntra_image_embeddings.npy'), { as: 'float32' });
    expect(arr.shape).toEqual([99, 512]);
    // the converted copy in data/ holds the same values (SOURCE.md: converted from this very file)
    const bin = await readFile(
      join(import.meta.dirname, '../../../data/myntra-fashionclip-99/image_fashionclip512.f32.bin'),
    );
    expect(Buffer.from(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength).equals(bin)).toBe(true);
  });

  it('names the file, row and column of a NaN or infinity', async () => {
    for (const name of ['f4_nan', 'f8_inf']) {
      const c = byFile.get(name)!;
      const err = await readNpy(join(FIXTURES, c.file)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as DataError).message).toContain(`${c.file}: ${c.error}`);
      expect((err as DataError).file).toBe(c.file);
    }
    // checkFinite: false lets them through
    const arr = await readNpy(join(FIXTURES, 'f4_nan.npy'), { checkFinite: false });
    expect(Number.isNaN(arr.data[7 * 5 + 3] as number)).toBe(true);
  });

  it('refuses big-endian, structured and complex dtypes clearly', async () => {
    for (const name of ['f4_bigendian', 'structured', 'c8']) {
      const c = byFile.get(name)!;
      await expect(readNpy(join(FIXTURES, c.file))).rejects.toThrow(new RegExp(`${c.file}: .*${c.error}`));
    }
  });

  it('refuses Fortran order when asked to, and transposes it by default', async () => {
    await expect(readNpy(join(FIXTURES, 'f4_fortran_2d.npy'), { fortranOrder: 'refuse' })).rejects.toThrow(
      /Fortran-order/,
    );
    const arr = await readNpy(join(FIXTURES, 'f8_fortran_3d.npy'));
    // element [1, 2, 3] of arange(24).reshape(2,3,4) - 3.25
    expect(arr.data[1 * 12 + 2 * 4 + 3]).toBe(23 - 3.25);
  });

  it('converts on request: float64/float16 → float32, int64 → int32 (range-checked), floats are not indices', async () => {
    const f8 = await readNpy(join(FIXTURES, 'f8_c.npy'), { as: 'float32' });
    expect(f8.data).toBeInstanceOf(Float32Array);
    expect(f8.data[0]).toBe(Math.fround(expectedNumber(byFile.get('f8_c')!.values![0]!) as number));
    const i8 = await readNpy(join(FIXTURES, 'i8_small.npy'), { as: 'int32' });
    expect(Array.from(i8.data)).toEqual([-5, -4, -3, -2, -1, 0, 1, 2, 3, 4]);
    await expect(readNpy(join(FIXTURES, 'i8_big.npy'), { as: 'int32' })).rejects.toThrow(
      /i8_big\.npy: element 1 is 1099511627776, outside the int32 range/,
    );
    await expect(readNpy(join(FIXTURES, 'f4_c.npy'), { as: 'int32' })).rejects.toThrow(
      /wrong dtype: expected integers/,
    );
    await expect(readNpy(join(FIXTURES, 'i4_c.npy'), { as: 'float32' })).rejects.toThrow(
      /i4_c\.npy: wrong dtype: expected floating point/,
    );
    const u1 = await readNpy(join(FIXTURES, 'u1.npy'), { as: 'int32' });
    expect(u1.data[15]).toBe(255);
  });

  it('reports truncated files and trailing bytes with the file name', async () => {
    const dir = await tempDir('cleave-npy-');
    const bytes = await readFile(join(FIXTURES, 'f4_c.npy'));
    await writeFile(join(dir, 'cut.npy'), bytes.subarray(0, bytes.length - 5));
    await expect(readNpy(join(dir, 'cut.npy'))).rejects.toThrow(
      /cut\.npy: truncated: the header promises 48 bytes/,
    );
    await writeFile(join(dir, 'cuthead.npy'), bytes.subarray(0, 40));
    await expect(readNpy(join(dir, 'cuthead.npy'))).rejects.toThrow(/cuthead\.npy: truncated/);
    await writeFile(join(dir, 'long.npy'), Buffer.concat([bytes, Buffer.from([1, 2])]));
    await expect(readNpy(join(dir, 'long.npy'))).rejects.toThrow(/long\.npy: 2 unexpected bytes/);
    await writeFile(join(dir, 'text.npy'), 'index,class\n0,1\n');
    await expect(readNpy(join(dir, 'text.npy'))).rejects.toThrow(/text\.npy: not a \.npy file/);
  });

  it('parseNpy returns a view (no copy) when aligned and copies when not', async () => {
    const bytes = new Uint8Array(await readFile(join(FIXTURES, 'f4_c.npy')));
    const aligned = parseNpy(bytes, { as: 'float32' });
    expect(aligned.data.buffer).toBe(bytes.buffer);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const odd = parseNpy(shifted.subarray(1), { as: 'float32' });
    expect(odd.data.buffer).not.toBe(shifted.buffer);
    expect(Array.from(odd.data)).toEqual(Array.from(aligned.data));
  });

  it('readNpyHeader reads only the header', async () => {
    const h = await readNpyHeader(join(FIXTURES, 'f4_rows.npy'));
    expect(h.shape).toEqual([300, 64]);
    expect(h.dataOffset).toBe(128);
    expect(h.fileSize).toBe((await stat(join(FIXTURES, 'f4_rows.npy'))).size);
  });
});

describe('encodeNpy / writeNpy are byte-identical to numpy.save', () => {
  const cOrder = good.filter((c) => !c.fortran && c.file !== 'f8_align16.npy' && c.file !== 'f2_special.npy');
  it.each(cOrder.map((c) => [c.file, c] as const))('%s', async (_name, c) => {
    const original = new Uint8Array(await readFile(join(FIXTURES, c.file)));
    const arr = parseNpy(original, { checkFinite: false });
    // Re-encode from fresh typed arrays holding the expected values, not from the decoded buffer.
    let data: NpyData;
    const dtype = DTYPE[c.descr]!;
    if (c.values) {
      const vals = c.values.map(expectedNumber);
      if (dtype === 'int64') data = BigInt64Array.from(vals as bigint[]);
      else if (dtype === 'float64') data = Float64Array.from(vals as number[]);
      else if (dtype === 'int32') data = Int32Array.from(vals as number[]);
      else if (dtype === 'uint8' || dtype === 'bool') data = Uint8Array.from(vals as number[]);
      else data = Float32Array.from(vals as number[]);
    } else {
      data = (arr.data as Float32Array).slice();
    }
    const version = c.version === '1.0' ? undefined : (c.version as '2.0' | '3.0');
    const encoded = encodeNpy(data, c.shape, { dtype, ...(version ? { version } : {}) });
    expect(Buffer.from(encoded).equals(Buffer.from(original))).toBe(true);
  });

  it('writes int32 indices as <i8 (the published noise-index format) and bool masks as |b1', async () => {
    const dir = await tempDir('cleave-npy-');
    await writeNpy(join(dir, 'idx.npy'), Int32Array.from([-5, -4, -3, -2, -1, 0, 1, 2, 3, 4]), [10], {
      dtype: 'int64',
    });
    expect(
      (await readFile(join(dir, 'idx.npy'))).equals(await readFile(join(FIXTURES, 'i8_small.npy'))),
    ).toBe(true);
    await writeNpy(join(dir, 'mask.npy'), Uint8Array.from([1, 0, 7, 1]), [4], { dtype: 'bool' });
    expect((await readFile(join(dir, 'mask.npy'))).equals(await readFile(join(FIXTURES, 'b1.npy')))).toBe(
      true,
    );
  });

  it('never writes over a protected input and rejects shapes that do not match', async () => {
    const dir = await tempDir('cleave-npy-');
    const input = join(dir, 'input.npy');
    await writeFile(input, 'keep');
    await expect(writeNpy(input, new Float32Array(2), [2], { protect: [input] })).rejects.toThrow(
      /input of this run/,
    );
    expect(await readFile(input, 'utf8')).toBe('keep');
    expect(() => encodeNpy(new Float32Array(6), [4, 2])).toThrow(/does not hold 6 elements/);
  });
});

describe('float16', () => {
  it('rounds float32 → float16 exactly like NumPy (ties to even, overflow, subnormals)', async () => {
    const { float32Bits, float16Bits } = JSON.parse(
      await readFile(join(FIXTURES, 'float16_rounding.json'), 'utf8'),
    ) as {
      float32Bits: number[];
      float16Bits: number[];
    };
    const values = new Float32Array(Uint32Array.from(float32Bits).buffer);
    const ours = Array.from(values, (v) => toFloat16Bits(v));
    expect(ours).toEqual(float16Bits);
  });

  it('widens every finite half to the value of its bit pattern', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const wide = float16ToFloat32(all);
    const mismatches: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const exp = (h >> 10) & 0x1f;
      if (exp !== 31 && toFloat16Bits(wide[h]!) !== h) mismatches.push(h);
    }
    expect(mismatches).toEqual([]);
    // spot values by the binary16 definition: 0x3c00 = 1, 0x0001 = 2^-24 (smallest subnormal), 0x7bff = 65504
    expect([wide[0x3c00], wide[0x0001], wide[0x7bff], wide[0xc000]]).toEqual([1, 2 ** -24, 65504, -2]);
    expect(wide[0x7c00]).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(wide[0x7e00]!)).toBe(true);
  });
});
