import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, DataError, parseOrThrow } from '../../src/core/errors.js';
import { writeFileAtomic } from '../../src/core/io/atomic.js';

describe('errors', () => {
  it('DataError prefixes the file and keeps the location', () => {
    const e = new DataError('row 7, column 3 is NaN', { file: 'images.npy', index: 7, field: 3 });
    expect(e.message).toBe('images.npy: row 7, column 3 is NaN');
    expect(e.index).toBe(7);
  });

  it('parseOrThrow names the source and each bad path', () => {
    const schema = z.object({ epochs: z.number().int().positive(), head: z.object({ dim: z.number() }) });
    let caught: unknown;
    try {
      parseOrThrow(schema, { epochs: -1, head: { dim: 'x' } }, 'run.json');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const err = caught as ConfigError;
    expect(err.message).toMatch(/^run\.json is not valid/);
    expect(err.issues.map((i) => i.path).sort()).toEqual(['epochs', 'head.dim']);
  });
});

describe('writeFileAtomic', () => {
  it('writes the content, leaves no temp file, and refuses protected paths', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cleave-atomic-'));
    const target = join(dir, 'sub', 'out.json');
    await writeFileAtomic(target, '{"a":1}');
    await writeFileAtomic(target, '{"a":2}');
    expect(await readFile(target, 'utf8')).toBe('{"a":2}');
    expect(await readdir(join(dir, 'sub'))).toEqual(['out.json']);
    const input = join(dir, 'input.csv');
    await writeFile(input, 'keep');
    await expect(writeFileAtomic(input, 'lost', { protect: [input] })).rejects.toThrow(/input of this run/);
    expect(await readFile(input, 'utf8')).toBe('keep');
  });
});
