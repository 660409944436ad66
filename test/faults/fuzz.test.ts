/**
 * Fuzzing the readers with fast-check (seeded): `.npy` headers (mutated bytes, random header dicts —
 * pickled object arrays included —, truncations), dataset manifests (any JSON in any field, paths out
 * of the folder, unknown keys) and run files. For every case: the read succeeds, or it fails with a
 * `CleaveError` whose message names the file or field — never another error type (a stack trace at
 * the CLI) — and the input files are byte-for-byte unchanged.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CleaveError } from '../../src/core/errors.js';
import { loadPairs } from '../../src/core/io/manifest.js';
import { encodeNpy, readNpy } from '../../src/core/io/npy.js';
import { parseRunFile } from '../../src/run/run-file.js';
import { resolveDataSource } from '../../src/run/source.js';
import { tempDir, writeSyntheticManifest } from '../run/helpers.js';
import { FUZZ_RUNS, snapshot } from './helpers.js';

const tmp = tempDir('cleave-fuzz-');
afterAll(tmp.cleanup);

/** A read that must succeed or throw a CleaveError naming `names` (one of them). */
async function cleanly(read: () => Promise<unknown>, names: RegExp): Promise<void> {
  try {
    await read();
  } catch (e) {
    if (!(e instanceof CleaveError))
      throw new Error(`not a CleaveError: ${(e as Error)?.stack ?? String(e)}`);
    expect(e.message).toMatch(names);
  }
}

describe('fuzz: readers fail with a clear CleaveError and never touch the input', () => {
  const valid = encodeNpy(
    Float32Array.from({ length: 12 }, (_, k) => k / 7),
    [3, 4],
  );
  const headerEnd = valid.indexOf(0x0a) + 1; // the header ends with a newline

  it('.npy: mutated header bytes and truncations', async () => {
    const dir = join(tmp.dir, 'npy-bytes');
    mkdirSync(dir, { recursive: true });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat({ max: headerEnd + 8 }), fc.nat({ max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.option(fc.nat({ max: valid.length }), { nil: undefined }),
        async (edits, cut) => {
          const bytes = Uint8Array.from(valid);
          for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
          const data = cut === undefined ? bytes : bytes.subarray(0, cut);
          const path = join(dir, 'x.npy');
          writeFileSync(path, data);
          await cleanly(() => readNpy(path, { as: 'float32' }), /x\.npy/);
          expect(Buffer.compare(readFileSync(path), Buffer.from(data))).toBe(0);
        },
      ),
      { seed: 15, numRuns: FUZZ_RUNS },
    );
  });

  it('.npy: random header dictionaries (object arrays are refused, never unpickled)', async () => {
    const dir = join(tmp.dir, 'npy-dict');
    mkdirSync(dir, { recursive: true });
    const descr = fc.oneof(
      fc.constantFrom(
        '<f4',
        '<f8',
        '<f2',
        '>f4',
        '|O',
        '<O',
        '|u1',
        '<i8',
        '|b1',
        '<c8',
        '|S10',
        '<U3',
        '<M8[s]',
        'V8',
      ),
      fc.string({ maxLength: 6 }),
    );
    const dim = fc.oneof(fc.integer({ min: -2, max: 6 }), fc.constant(2 ** 40), fc.constant(1e300));
    const shape = fc.array(dim, { maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(
        descr,
        fc.constantFrom('False', 'True', '0', "'x'"),
        shape,
        fc.nat({ max: 200 }),
        async (d, order, s, extra) => {
          const dict = `{'descr': '${d}', 'fortran_order': ${order}, 'shape': (${s.join(', ')}${s.length === 1 ? ',' : ''}), }`;
          const line = `${dict.padEnd(Math.ceil((dict.length + 11) / 64) * 64 - 11)}\n`;
          const head = Buffer.concat([
            Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, line.length & 0xff, line.length >> 8]),
            Buffer.from(line, 'latin1'),
          ]);
          const payload = Buffer.alloc(extra, 0x41);
          const path = join(dir, 'h.npy');
          const file = Buffer.concat([head, payload]);
          writeFileSync(path, file);
          await cleanly(() => readNpy(path), /h\.npy/);
          expect(Buffer.compare(readFileSync(path), file)).toBe(0);
          if (/O/.test(d)) await expect(readNpy(path)).rejects.toBeInstanceOf(CleaveError);
        },
      ),
      { seed: 16, numRuns: FUZZ_RUNS },
    );
  });

  let manifest: string;
  let base: Record<string, unknown>;
  beforeAll(async () => {
    manifest = await writeSyntheticManifest(join(tmp.dir, 'manifest'), { images: 30 });
    base = JSON.parse(readFileSync(manifest, 'utf8'));
  });

  it('manifests: any JSON in any field, unknown keys, paths out of the folder', async () => {
    const folder = join(tmp.dir, 'manifest');
    const keys = [...Object.keys(base), 'captionTexts', 'imageIds', 'clipRetrieval', 'trainer', 'bogus'];
    const path = fc.oneof(
      fc.constantFrom(
        'images.npy',
        'captions.npy',
        'labels.npy',
        '../x.npy',
        '/etc/passwd',
        '',
        '.',
        'manifest.json',
        'nope.json',
        '3',
      ),
      fc.string({ maxLength: 8 }),
    );
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      path,
      path.map((p) => ({ path: p })),
      path.map((p) => ({ path: p, field: 'x' })),
    );
    const before = snapshot(folder);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(...keys), fc.option(value, { nil: undefined })), {
          minLength: 1,
          maxLength: 3,
        }),
        async (edits) => {
          const m: Record<string, unknown> = { ...base };
          for (const [k, v] of edits) {
            if (v === undefined) delete m[k];
            else m[k] = v;
          }
          const file = join(folder, 'fuzz.json');
          writeFileSync(file, JSON.stringify(m));
          await cleanly(async () => {
            resolveDataSource(file);
            return loadPairs(file);
          }, /fuzz\.json|\.npy|\.json|\.csv|passwd|: |not valid|expected|split|\w+/);
        },
      ),
      { seed: 17, numRuns: FUZZ_RUNS },
    );
    const after = snapshot(folder);
    delete after['fuzz.json'];
    expect(after).toEqual(before);
  });

  it('run files: any JSON is a valid run file or a ConfigError naming the field', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }),
          fc.dictionary(
            fc.constantFrom('data', 'out', 'epochs', 'noise', 'method', 'seed', 'optimizer', 'methods', 'x'),
            fc.jsonValue({ maxDepth: 2 }),
          ),
        ),
        (value) => {
          try {
            parseRunFile(value, 'run.json', '/base');
          } catch (e) {
            if (!(e instanceof CleaveError))
              throw new Error(`not a CleaveError: ${(e as Error)?.stack ?? String(e)}`);
            expect(e.message).toMatch(/run\.json/);
          }
        },
      ),
      { seed: 18, numRuns: FUZZ_RUNS },
    );
  });
});
