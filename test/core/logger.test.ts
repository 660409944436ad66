/**
 * The log formats: the pretty line of a pino record, and which format is the default.
 */
import { describe, expect, it } from 'vitest';
import { defaultLogFormat, prettyLogLine } from '../../src/core/logger.js';

describe('prettyLogLine', () => {
  it('writes module, message and fields; leaves out pid, host, time and nulls; marks warnings', () => {
    const record = {
      level: 30,
      time: 1_700_000_000_000,
      pid: 42,
      hostname: 'h',
      name: 'cleave',
      module: 'audit',
      msg: 'audit done',
      estimatedNoiseRate: 0.102345678,
      kept: 90,
      source: 'my data/',
      missing: null,
      files: ['a', 'b'],
    };
    expect(prettyLogLine(JSON.stringify(record))).toBe(
      'audit: audit done  estimatedNoiseRate=0.1023 kept=90 source="my data/" files=["a","b"]',
    );
    expect(prettyLogLine(JSON.stringify({ ...record, level: 40, msg: 'careful' }))).toMatch(
      /^warn: audit: careful /,
    );
    expect(prettyLogLine(JSON.stringify({ level: 50, msg: 'boom' }))).toBe('error: boom');
    expect(prettyLogLine('not json\n')).toBe('not json');
    expect(
      prettyLogLine(JSON.stringify({ level: 30, msg: 'epoch', loss: [8.93741226], pair: [0.123456, 2] })),
    ).toBe('epoch  loss=8.937 pair=0.1235,2');
  });
});

describe('defaultLogFormat', () => {
  it('follows CLEAVE_LOG_FORMAT, else pretty on a terminal and json otherwise', () => {
    expect(defaultLogFormat({}, true)).toBe('pretty');
    expect(defaultLogFormat({}, false)).toBe('json');
    expect(defaultLogFormat({ CLEAVE_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(defaultLogFormat({ CLEAVE_LOG_FORMAT: 'Pretty' }, false)).toBe('pretty');
    expect(defaultLogFormat({ CLEAVE_LOG_FORMAT: 'xml' }, false)).toBe('json');
  });
});
