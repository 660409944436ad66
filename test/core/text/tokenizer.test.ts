/**
 * The NCR-family tokenizer and vocabulary: NLTK `word_tokenize` outputs (written down from NLTK 3.8
 * for these sentences), the vocabulary file format of the published `*_precomp_vocab.json` and the
 * build rule of NCR's `vocab.py` (special tokens first, words seen ≥ threshold times, first-seen order).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../../src/core/errors.js';
import { SPECIAL_TOKENS, Vocabulary, wordTokenize } from '../../../src/core/text/tokenizer.js';
import { tempDir } from '../io/tempdir.js';

describe('wordTokenize (nltk.word_tokenize of the lower-cased caption)', () => {
  const cases: [string, string[]][] = [
    [
      'Two young guys with shaggy hair look at their hands while hanging out in the yard.',
      [
        'two',
        'young',
        'guys',
        'with',
        'shaggy',
        'hair',
        'look',
        'at',
        'their',
        'hands',
        'while',
        'hanging',
        'out',
        'in',
        'the',
        'yard',
        '.',
      ],
    ],
    ["A dog's toy, isn't it?", ['a', 'dog', "'s", 'toy', ',', 'is', "n't", 'it', '?']],
    ['He said "hello" (twice).', ['he', 'said', '``', 'hello', "''", '(', 'twice', ')', '.']],
    ["I can't go--now", ['i', 'ca', "n't", 'go', '--', 'now']],
    ['It costs $5.00 at 3:30, ok', ['it', 'costs', '$', '5.00', 'at', '3:30', ',', 'ok']],
    ['They cannot; we will!', ['they', 'can', 'not', ';', 'we', 'will', '!']],
    ['A man runs. A dog follows .', ['a', 'man', 'runs', '.', 'a', 'dog', 'follows', '.']],
    ["The kids' ball", ['the', 'kids', "'", 'ball']],
  ];
  for (const [text, want] of cases) {
    it(JSON.stringify(text), () => expect(wordTokenize(text)).toEqual(want));
  }
});

describe('Vocabulary', () => {
  it("builds as NCR's vocab.py: specials, then words seen >= threshold times in first-seen order", () => {
    const v = Vocabulary.build(['a dog runs', 'a cat runs', 'the dog', 'A DOG'], { threshold: 2 });
    expect(v.words).toEqual([...SPECIAL_TOKENS, 'a', 'dog', 'runs']);
    expect(v.encode('A dog sleeps.')).toEqual([1, 4, 5, 3, 3, 2]);
  });

  it('reads and writes the published JSON form (word2idx, idx2word with string keys, idx)', async () => {
    const dir = await tempDir();
    const v = Vocabulary.build(['x y', 'x z'], { threshold: 1 });
    const path = join(dir, 'f30k_precomp_vocab.json');
    await v.save(path);
    const json = JSON.parse(await readFile(path, 'utf8'));
    expect(json).toEqual({
      word2idx: { '<pad>': 0, '<start>': 1, '<end>': 2, '<unk>': 3, x: 4, y: 5, z: 6 },
      idx2word: { 0: '<pad>', 1: '<start>', 2: '<end>', 3: '<unk>', 4: 'x', 5: 'y', 6: 'z' },
      idx: 7,
    });
    const back = await Vocabulary.load(path);
    expect(back.words).toEqual(v.words);
    expect(back.encodeAll(['x q', 'z'])).toEqual({
      ids: Int32Array.from([1, 4, 3, 2, 1, 6, 2]),
      offsets: Int32Array.from([0, 4, 7]),
      vocabSize: 7,
    });
  });

  it('refuses a file with gaps in its ids or without the special tokens, naming the file', () => {
    expect(() => Vocabulary.fromJSON({ word2idx: { '<pad>': 0, a: 2 } }, 'v.json')).toThrow(
      /v\.json: word2idx: id 2 of 'a' is out of range/,
    );
    expect(() => Vocabulary.fromJSON({ word2idx: { a: 0, b: 1, c: 2, d: 3 } }, 'v.json')).toThrow(DataError);
    expect(() => Vocabulary.fromJSON({ words: [] }, 'v.json')).toThrow(/v\.json: not a vocabulary file/);
  });
});
