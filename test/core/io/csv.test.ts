import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../../src/core/errors.js';
import { readCaptions, readColumn } from '../../../src/core/io/captions.js';
import { csvTable, parseCsv, readCsv } from '../../../src/core/io/csv.js';
import { readIndices } from '../../../src/core/io/features.js';
import { tempDir } from './tempdir.js';

// Files written and read back by Python's csv module: test/reference/csv_fixture.py
const FIXTURES = join(import.meta.dirname, '../../reference/fixtures/io');
const expected = JSON.parse(await readFile(join(FIXTURES, 'csv_expected.json'), 'utf8')) as Record<
  string,
  string[][]
>;

describe('CSV parser against Python csv', () => {
  it.each(Object.keys(expected))('%s parses to the rows Python reads', async (name) => {
    const text = await readFile(join(FIXTURES, name), 'utf8');
    expect(parseCsv(text)).toEqual(expected[name]);
    const table = await readCsv(join(FIXTURES, name));
    expect(table.header).toEqual(expected[name]![0]);
    expect(table.column('caption')).toEqual(expected[name]!.slice(1).map((r) => r[2]));
  });

  it('handles a BOM, a missing final newline, empty lines and other delimiters', () => {
    expect(parseCsv('\ufeffa,b\n\n1,2')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(parseCsv('a;b\r\n"x;y";2\r\n', { delimiter: ';' })).toEqual([
      ['a', 'b'],
      ['x;y', '2'],
    ]);
    expect(parseCsv('a,b,\n')).toEqual([['a', 'b', '']]);
  });

  it('reports malformed CSV with file and line', () => {
    expect(() => parseCsv('a,b\n1,"open\n2,3\n', { file: 'l.csv' })).toThrow(
      /l\.csv: line 2: unterminated quoted field/,
    );
    expect(() => parseCsv('a,b\n"x"y,2\n', { file: 'l.csv' })).toThrow(
      /l\.csv: line 2: unexpected 'y' after a closing quote/,
    );
    expect(() => parseCsv('a,b\nx"y,2\n', { file: 'l.csv' })).toThrow(
      /line 2: a quote inside an unquoted field/,
    );
    expect(() => csvTable('a,b\n1,2\n3\n', { file: 'l.csv' })).toThrow(
      /l\.csv: line 3 has 1 fields, the header has 2/,
    );
    const err = (() => {
      try {
        csvTable('a,b\n1,2\n', { file: 'l.csv' }).column('split');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message).toBe("l.csv: no column 'split' (columns: a, b)");
  });
});

describe('captions and index columns', () => {
  it('reads .txt lines, JSONL strings/objects and CSV columns', async () => {
    const dir = await tempDir('cleave-cap-');
    await writeFile(join(dir, 'c.txt'), 'a dog\r\n\nthe end\n');
    expect(await readCaptions(join(dir, 'c.txt'))).toEqual(['a dog', '', 'the end']);
    await writeFile(join(dir, 'c.jsonl'), '{"caption": "x", "image": 3}\n{"text": "y", "image": "1"}\n');
    expect(await readCaptions(join(dir, 'c.jsonl'))).toEqual(['x', 'y']);
    expect(Array.from(await readIndices(join(dir, 'c.jsonl'), { field: 'image' }))).toEqual([3, 1]);
    await writeFile(join(dir, 's.jsonl'), '"just a string"\n"another"\n');
    expect(await readCaptions(join(dir, 's.jsonl'))).toEqual(['just a string', 'another']);
    expect(await readColumn(join(FIXTURES, 'tricky_lf.csv'), 'url')).toEqual(
      expected['tricky_lf.csv']!.slice(1).map((r) => r[3]),
    );
  });

  it('names the file and line of bad JSONL and non-integer indices', async () => {
    const dir = await tempDir('cleave-cap-');
    await writeFile(join(dir, 'bad.jsonl'), '{"caption": "x"}\n{"caption": oops}\n');
    await expect(readCaptions(join(dir, 'bad.jsonl'))).rejects.toThrow(
      /bad\.jsonl: line 2 is not valid JSON/,
    );
    await writeFile(join(dir, 'nofield.jsonl'), '{"caption": "x"}\n{"text2": "y"}\n');
    await expect(readCaptions(join(dir, 'nofield.jsonl'))).rejects.toThrow(
      /nofield\.jsonl: line 2 has no field 'caption'/,
    );
    await writeFile(join(dir, 'idx.json'), '[0, 1, 2.5]');
    await expect(readIndices(join(dir, 'idx.json'))).rejects.toThrow(
      /idx\.json: entry 2 is 2\.5, not an integer index/,
    );
    await writeFile(join(dir, 'num.jsonl'), '{"caption": 5}\n');
    await expect(readCaptions(join(dir, 'num.jsonl'))).rejects.toThrow(
      /num\.jsonl: caption 0 is 5, not a string/,
    );
  });
});
