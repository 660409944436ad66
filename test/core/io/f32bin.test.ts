import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../../src/core/errors.js';
import { f32HeaderPath, readF32Bin, writeF32Bin } from '../../../src/core/io/f32bin.js';
import { readFeatures } from '../../../src/core/io/features.js';
import { firstNonFinite } from '../../../src/core/io/finite.js';
import { tempDir } from './tempdir.js';

const WIKI = join(import.meta.dirname, '../../../data/wikipedia-xmodal');

describe('readF32Bin', () => {
  it('reads the bundled Wikipedia image features: shape from the header, rows are L1-normalised histograms', async () => {
    const { data, shape, header } = await readF32Bin(join(WIKI, 'image_sift_bovw128.f32.bin'));
    expect(shape).toEqual([2866, 128]);
    expect(header.sha256).toMatch(/^[0-9a-f]{64}$/);
    // SOURCE.md: "rows L1-normalised (sum = 1)" and non-negative
    let minValue = Number.POSITIVE_INFINITY;
    let worstSum = 0;
    for (let r = 0; r < 2866; r++) {
      let sum = 0;
      for (let c = 0; c < 128; c++) {
        const v = data[r * 128 + c]!;
        minValue = Math.min(minValue, v);
        sum += v;
      }
      worstSum = Math.max(worstSum, Math.abs(sum - 1));
    }
    expect(minValue).toBeGreaterThanOrEqual(0);
    expect(worstSum).toBeLessThan(1e-4);
    // the header path works too
    const viaHeader = await readF32Bin(join(WIKI, 'text_lda10.json'));
    expect(viaHeader.shape).toEqual([2866, 10]);
  });

  it('round-trips through writeF32Bin, including the checksum', async () => {
    const dir = await tempDir('cleave-f32-');
    const data = Float32Array.from({ length: 12 }, (_, i) => i / 3 - 1);
    await writeF32Bin(join(dir, 'x.f32.bin'), data, [4, 3], { description: 'toy' });
    expect(f32HeaderPath(join(dir, 'x.f32.bin'))).toBe(join(dir, 'x.json'));
    const back = await readF32Bin(join(dir, 'x.f32.bin'));
    expect(Array.from(back.data)).toEqual(Array.from(data));
    expect(back.header.description).toBe('toy');
    expect(back.header.bytes).toBe(48);
  });

  it('reports truncation, checksum mismatch, a wrong dtype, a missing header and non-finite values', async () => {
    const dir = await tempDir('cleave-f32-');
    const data = Float32Array.from({ length: 12 }, (_, i) => i);
    await writeF32Bin(join(dir, 'x.f32.bin'), data, [4, 3]);
    const bytes = await readFile(join(dir, 'x.f32.bin'));
    await writeFile(join(dir, 'x.f32.bin'), bytes.subarray(0, 40));
    await expect(readF32Bin(join(dir, 'x.f32.bin'))).rejects.toThrow(
      /x\.f32\.bin: truncated: x\.json says shape \[4,3\] = 48 bytes of float32, the file has 40/,
    );
    const tampered = Buffer.from(bytes);
    tampered[0] = 1;
    await writeFile(join(dir, 'x.f32.bin'), tampered);
    await expect(readF32Bin(join(dir, 'x.f32.bin'))).rejects.toThrow(/x\.f32\.bin: checksum mismatch/);
    expect((await readF32Bin(join(dir, 'x.f32.bin'), { verifyChecksum: false })).data[0]).not.toBe(0);

    const header = JSON.parse(await readFile(join(dir, 'x.json'), 'utf8'));
    await writeFile(join(dir, 'x.json'), JSON.stringify({ ...header, dtype: 'float64' }));
    await expect(readF32Bin(join(dir, 'x.f32.bin'))).rejects.toThrow(/x\.json: wrong dtype 'float64'/);
    await copyFile(join(dir, 'x.f32.bin'), join(dir, 'orphan.f32.bin'));
    await expect(readF32Bin(join(dir, 'orphan.f32.bin'))).rejects.toThrow(
      /orphan\.json: the JSON header of orphan\.f32\.bin is missing/,
    );

    const withNan = data.slice();
    withNan[3 * 3 + 1] = Number.NaN;
    await writeF32Bin(join(dir, 'n.f32.bin'), withNan, [4, 3]);
    const err = await readF32Bin(join(dir, 'n.f32.bin')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toBe('n.f32.bin: row 3, column 1 is NaN; features must be finite');
    expect((err as DataError).index).toBe(3);
    expect((err as DataError).field).toBe(1);
  });

  it('readFeatures refuses integer .npy features and other ranks', async () => {
    const fixtures = join(import.meta.dirname, '../../reference/fixtures/io');
    await expect(readFeatures(join(fixtures, 'i4_c.npy'))).rejects.toThrow(
      /i4_c\.npy: wrong dtype: expected floating point/,
    );
    await expect(readFeatures(join(fixtures, 'f4_big.npy'))).rejects.toThrow(
      /f4_big\.npy: expected a 2-D \[N, D\] or 3-D/,
    );
    await expect(readFeatures(join(fixtures, 'npy_cases.json'))).rejects.toThrow(/npy_cases\.json/);
    const f8 = await readFeatures(join(fixtures, 'f8_fortran_3d.npy'));
    expect(f8.shape).toEqual([2, 3, 4]);
    expect(f8.data).toBeInstanceOf(Float32Array);
  });
});

describe('firstNonFinite', () => {
  it('finds the first NaN/±Infinity at every position, in float32 and float64, and nothing in finite data', () => {
    const specials = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    const values = Array.from({ length: 23 }, (_, i) => (i - 11) * 3.4e37 * (i % 2 ? 1 : 1e-40));
    for (const finite of [Float32Array.from(values), Float64Array.from(values)]) {
      finite[5] = 3.4028234663852886e38; // largest float32
      finite[6] = -0;
      expect(firstNonFinite(finite)).toBe(-1);
      for (let pos = 0; pos < 23; pos++) {
        for (const s of specials) {
          const d = finite.slice();
          d[pos] = s;
          d[Math.min(22, pos + 3)] = Number.NaN; // a later one must not be reported first
          expect(firstNonFinite(d)).toBe(pos);
        }
      }
    }
  });
});
