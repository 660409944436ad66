/** Shared helpers of the mixture tests: fixture loading and tolerant comparisons. */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, expect } from 'vitest';
import { getLogger, setLogger } from '../../src/core/logger.js';

const fixtureDir = fileURLToPath(new URL('../reference/fixtures/mixture/', import.meta.url));

/** Parse a fixture written by test/reference/mixture_reference.py. */
export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(`${fixtureDir}${name}`, 'utf8')) as T;
}

/** |a − e| ≤ rel·max(|a|, |e|) + abs, element-wise, with the index in the message. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rel = 1e-6,
  abs = 1e-15,
  label = '',
): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    const tol = rel * Math.max(Math.abs(a), Math.abs(e)) + abs;
    if (!(Math.abs(a - e) <= tol)) {
      expect.fail(`${label}[${i}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${tol})`);
    }
  }
}

/**
 * Route cleave's logs (level ≥ warn) into an array for the rest of the test; the original logger is
 * restored after each test of the file that calls {@link restoreLoggerAfterEach}.
 */
export function captureLogs(): { msg: string; level: number }[] {
  const lines: { msg: string; level: number }[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  setLogger(pino({ level: 'warn' }, stream));
  return lines;
}

/** Register an afterEach hook that puts the original logger back. */
export function restoreLoggerAfterEach(): void {
  const original = getLogger();
  afterEach(() => setLogger(original));
}
