/**
 * A small, strict CSV reader (RFC 4180): quoted fields may hold the delimiter, `""` (an escaped quote) and
 * line breaks; CRLF and LF both end records; a UTF-8 byte-order mark is dropped; empty lines are skipped.
 * Malformed input (an unterminated quote, text after a closing quote, a row whose field count differs from
 * the header) is a {@link DataError} naming the file and line.
 *
 * @example
 * ```ts
 * import { parseCsv, readCsv } from 'cleave/io';
 * parseCsv('a,b\n1,"x, ""y"""\n');          // [['a', 'b'], ['1', 'x, "y"']]
 * const table = await readCsv('data/wikipedia-xmodal/labels.csv');
 * table.column('split').slice(0, 2);          // ['train', 'train']
 * ```
 */
import { basename } from 'node:path';
import { DataError } from '../errors.js';
import { readText } from './read.js';

/** Options of {@link parseCsv} / {@link readCsv}. */
export interface CsvOptions {
  /** Field separator, one character. Default `,`. */
  delimiter?: string;
  /** Name used in error messages. */
  file?: string;
}

interface ParsedCsv {
  rows: string[][];
  /** 1-based line on which each row starts. */
  lines: number[];
}

function parse(text: string, options: CsvOptions): ParsedCsv {
  const delimiter = options.delimiter ?? ',';
  const file = options.file ?? 'CSV';
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new RangeError(
      `CSV delimiter must be one character other than a quote or line break, got '${delimiter}'`,
    );
  }
  const rows: string[][] = [];
  const lines: number[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    // Skip empty lines.
    if (text[i] === '\n') {
      i++;
      line++;
      continue;
    }
    if (text[i] === '\r' && text[i + 1] === '\n') {
      i += 2;
      line++;
      continue;
    }
    const startLine = line;
    const row: string[] = [];
    for (;;) {
      // One field.
      let field = '';
      if (text[i] === '"') {
        const quoteLine = line;
        i++;
        for (;;) {
          if (i >= n)
            throw new DataError(`line ${quoteLine}: unterminated quoted field`, { file, index: quoteLine });
          const ch = text[i]!;
          if (ch === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\n') line++;
          field += ch;
          i++;
        }
        const next = text[i];
        if (i < n && next !== delimiter && next !== '\n' && !(next === '\r' && text[i + 1] === '\n')) {
          throw new DataError(`line ${line}: unexpected '${next}' after a closing quote`, {
            file,
            index: line,
          });
        }
      } else {
        const start = i;
        while (i < n) {
          const ch = text[i]!;
          if (ch === delimiter || ch === '\n' || (ch === '\r' && text[i + 1] === '\n')) break;
          if (ch === '"') {
            throw new DataError(`line ${line}: a quote inside an unquoted field (quote the whole field)`, {
              file,
              index: line,
            });
          }
          i++;
        }
        field = text.slice(start, i);
      }
      row.push(field);
      if (i >= n) break;
      if (text[i] === delimiter) {
        i++;
        continue;
      }
      // End of record.
      i += text[i] === '\r' ? 2 : 1;
      line++;
      break;
    }
    rows.push(row);
    lines.push(startLine);
  }
  return { rows, lines };
}

/**
 * Parse CSV text into rows of string fields.
 *
 * @param text the CSV content
 * @param options delimiter and file name (for errors)
 * @returns one array of fields per non-empty record, the header included
 */
export function parseCsv(text: string, options: CsvOptions = {}): string[][] {
  return parse(text, options).rows;
}

/** A CSV file with a header row. */
export interface CsvTable {
  /** The file name (for messages). */
  file: string;
  /** Column names from the first row. */
  header: string[];
  /** Data rows (header excluded); each has `header.length` fields. */
  rows: string[][];
  /** All values of one column, in row order. Throws a DataError naming the file when it is absent. */
  column(name: string): string[];
  /** Whether the table has a column of that name. */
  has(name: string): boolean;
}

/**
 * Turn CSV text into a {@link CsvTable}, checking that every row has as many fields as the header.
 *
 * @param text the CSV content, header first
 * @param options delimiter and file name (for errors)
 */
export function csvTable(text: string, options: CsvOptions = {}): CsvTable {
  const file = options.file ?? 'CSV';
  const { rows, lines } = parse(text, options);
  const header = rows[0];
  if (!header) throw new DataError('empty CSV: no header row', { file });
  const body = rows.slice(1);
  body.forEach((row, r) => {
    if (row.length !== header.length) {
      const line = lines[r + 1]!;
      throw new DataError(`line ${line} has ${row.length} fields, the header has ${header.length}`, {
        file,
        index: r,
      });
    }
  });
  return {
    file,
    header,
    rows: body,
    has: (name) => header.includes(name),
    column(name) {
      const c = header.indexOf(name);
      if (c < 0) {
        throw new DataError(`no column '${name}' (columns: ${header.join(', ')})`, { file, field: name });
      }
      return body.map((row) => row[c]!);
    },
  };
}

/**
 * Read a CSV file with a header row.
 *
 * @param path the file (UTF-8)
 * @param options the delimiter (default `,`)
 */
export async function readCsv(path: string, options: Omit<CsvOptions, 'file'> = {}): Promise<CsvTable> {
  const text = await readText(path);
  return csvTable(text, { ...options, file: basename(path) });
}

/** A value {@link formatCsv} writes: numbers with `String(n)` (NaN/±Infinity and null/undefined as empty). */
export type CsvValue = string | number | boolean | null | undefined;

/**
 * Write rows as RFC 4180 CSV (the inverse of {@link parseCsv}): a field is quoted when it holds the
 * delimiter, a quote, a line break or leading/trailing spaces; quotes inside are doubled; records end
 * with `\n`. Numbers use `String(n)` (shortest round-trip form); NaN, ±Infinity, null and undefined are
 * empty fields.
 *
 * @example
 * ```ts
 * import { formatCsv } from 'cleave/io';
 * formatCsv([['a', 'b'], [1, 'x, "y"']]);   // 'a,b\n1,"x, ""y"""\n'
 * ```
 */
export function formatCsv(
  rows: readonly (readonly CsvValue[])[],
  options: { delimiter?: string } = {},
): string {
  const d = options.delimiter ?? ',';
  const field = (v: CsvValue): string => {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number' && !Number.isFinite(v)) return '';
    const s = String(v);
    return s.includes(d) || /["\r\n]/.test(s) || s !== s.trim() ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return rows.map((row) => `${row.map(field).join(d)}\n`).join('');
}
