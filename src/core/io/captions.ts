/**
 * Caption texts and per-row values from text files: one caption per line (`.txt`), JSON Lines
 * (`.jsonl`: a string per line, or an object whose `field` holds the value), or a CSV column.
 *
 * @example
 * ```ts
 * import { readCaptions, readColumn } from 'cleave/io';
 * const texts = await readCaptions('captions.txt');                   // string[]
 * const fromJsonl = await readCaptions('pairs.jsonl', { field: 'caption' });
 * const imageOfCaption = await readColumn('pairs.jsonl', 'image');   // (string | number)[]
 * ```
 */
import { basename, extname } from 'node:path';
import { DataError } from '../errors.js';
import { csvTable } from './csv.js';
import { readText } from './read.js';

function splitLines(text: string): string[] {
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const lines = text.slice(start).split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

function fieldValue(line: string, lineNo: number, field: string | undefined, file: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new DataError(`line ${lineNo} is not valid JSON`, { file, index: lineNo - 1 });
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const key = field ?? ['caption', 'text'].find((k) => k in obj);
    if (key === undefined || !(key in obj)) {
      throw new DataError(`line ${lineNo} has no field '${field ?? 'caption'}'`, {
        file,
        index: lineNo - 1,
        field: field ?? 'caption',
      });
    }
    return obj[key];
  }
  if (field !== undefined) {
    throw new DataError(`line ${lineNo} is not an object with a field '${field}'`, {
      file,
      index: lineNo - 1,
    });
  }
  return value;
}

/**
 * All values of one column of a `.jsonl` (object field, or the line itself when `field` is omitted),
 * `.csv` (column `field`, required) or `.txt` (each line) file, in order.
 *
 * @throws DataError naming the file and line for invalid JSON or a missing field
 */
export async function readColumn(path: string, field?: string): Promise<unknown[]> {
  const file = basename(path);
  const text = await readText(path);
  const ext = extname(path).toLowerCase();
  if (ext === '.csv' || ext === '.tsv') {
    if (!field) throw new DataError(`a column name is needed to read ${file}`, { file });
    return csvTable(text, { file, delimiter: ext === '.tsv' ? '\t' : ',' }).column(field);
  }
  const lines = splitLines(text);
  if (ext === '.jsonl' || ext === '.ndjson') {
    const out: unknown[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === '') throw new DataError(`line ${i + 1} is empty`, { file, index: i });
      out.push(fieldValue(line, i + 1, field, file));
    });
    return out;
  }
  return lines;
}

/**
 * Caption texts, one per caption: `.txt` (one per line; an empty line is an empty caption), `.jsonl`
 * (strings, or objects with `field` — default `caption`, then `text`), `.csv`/`.tsv` (column `field`).
 *
 * @param path the file (UTF-8)
 * @param options.field the JSONL field or CSV column holding the text
 * @returns one string per caption
 */
export async function readCaptions(path: string, options: { field?: string } = {}): Promise<string[]> {
  const file = basename(path);
  const values = await readColumn(path, options.field);
  return values.map((v, i) => {
    if (typeof v !== 'string') {
      throw new DataError(`caption ${i} is ${JSON.stringify(v)}, not a string`, { file, index: i });
    }
    return v;
  });
}
