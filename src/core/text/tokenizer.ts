/**
 * Captions → token ids, as the NCR family (SCAN, NCR, DECL, RCL, …) does it: `nltk.word_tokenize` of
 * the lower-cased caption, wrapped in `<start>` … `<end>`, with `<unk>` for words outside the
 * vocabulary; and the vocabulary files they publish (`vocab/<name>_precomp_vocab.json`:
 * `{ "word2idx": {…}, "idx2word": {"0": "<pad>", …}, "idx": n }`, built from the `train` and `dev`
 * captions with words seen at least 4 times after `<pad>`=0, `<start>`=1, `<end>`=2, `<unk>`=3).
 *
 * {@link wordTokenize} reimplements NLTK's Treebank rules (`NLTKWordTokenizer`: quotes, punctuation,
 * brackets, dashes, contractions such as `n't` and `'s`) plus a simple sentence split at `. ! ?`
 * followed by a space (NLTK's Punkt model decides that with abbreviation statistics; captions
 * rarely need them).
 *
 * @example
 * ```ts
 * import { Vocabulary, wordTokenize } from 'cleave/model';
 * wordTokenize("A dog's toy, isn't it?");   // ['a', 'dog', "'s", 'toy', ',', 'is', "n't", 'it', '?']
 * const vocab = Vocabulary.build(['a dog runs .', 'a dog sits .'], { threshold: 1 });
 * vocab.encode('A cat runs.');              // [1, 4, 3, 6, 7, 2]: <start> a <unk> runs . <end>
 * ```
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import type { TokenSequences } from '../dataset/types.js';
import { DataError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';

/** The special tokens of the published vocabularies, with their fixed ids. */
export const SPECIAL_TOKENS = ['<pad>', '<start>', '<end>', '<unk>'] as const;

type Rule = [RegExp, string];

const STARTING_QUOTES: Rule[] = [
  [/^"/g, '``'],
  [/(``)/g, ' $1 '],
  [/([ ([{<])("|'{2})/g, '$1 `` '],
];
const PUNCTUATION: Rule[] = [
  [/([^.])(\.)([\])}>"']*)\s*$/g, '$1 $2 $3 '],
  [/([:,])([^\d])/g, ' $1 $2'],
  [/([:,])$/g, ' $1 '],
  [/\.\.\./g, ' ... '],
  [/[;@#$%&]/g, ' $& '],
  [/([^.])(\.)([\])}>"']*)\s*$/g, '$1 $2 $3 '],
  [/[?!]/g, ' $& '],
  [/([^'])' /g, "$1 ' "],
];
const PARENS: Rule[] = [[/[\][(){}<>]/g, ' $& ']];
const DOUBLE_DASHES: Rule[] = [[/--/g, ' -- ']];
const ENDING_QUOTES: Rule[] = [
  [/''/g, " '' "],
  [/"/g, " '' "],
  [/([^' ])('[sS]|'[mM]|'[dD]|') /g, '$1 $2 '],
  [/([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) /g, '$1 $2 '],
];
const CONTRACTIONS: Rule[] = [
  [/\b(can)(not)\b/gi, ' $1 $2 '],
  [/\b(d)('ye)\b/gi, ' $1 $2 '],
  [/\b(gim)(me)\b/gi, ' $1 $2 '],
  [/\b(gon)(na)\b/gi, ' $1 $2 '],
  [/\b(got)(ta)\b/gi, ' $1 $2 '],
  [/\b(lem)(me)\b/gi, ' $1 $2 '],
  [/\b(more)('n)\b/gi, ' $1 $2 '],
  [/\b(wan)(na)(?=\s)/gi, ' $1 $2 '],
  [/ ('t)(is)\b/gi, ' $1 $2 '],
  [/ ('t)(was)\b/gi, ' $1 $2 '],
];

function apply(text: string, rules: Rule[]): string {
  let t = text;
  for (const [re, to] of rules) t = t.replace(re, to);
  return t;
}

function treebank(sentence: string): string[] {
  let t = apply(sentence, STARTING_QUOTES);
  t = apply(t, PUNCTUATION);
  t = apply(t, PARENS);
  t = apply(t, DOUBLE_DASHES);
  t = apply(` ${t} `, ENDING_QUOTES);
  t = apply(t, CONTRACTIONS);
  return t.split(/\s+/).filter((w) => w.length > 0);
}

/**
 * Split a caption into words as `nltk.word_tokenize(caption.lower())` does (see the module
 * documentation); lower-cases unless `lower` is false.
 *
 * @example
 * ```ts
 * wordTokenize('Two men, one in a red hat.');   // ['two', 'men', ',', 'one', 'in', 'a', 'red', 'hat', '.']
 * ```
 */
export function wordTokenize(caption: string, lower = true): string[] {
  const text = lower ? caption.toLowerCase() : caption;
  const out: string[] = [];
  for (const sentence of text.split(/(?<=[.!?])\s+(?=\S)/)) {
    if (sentence.trim()) out.push(...treebank(sentence));
  }
  return out;
}

const vocabJsonSchema = z.object({
  word2idx: z.record(z.string(), z.number().int().nonnegative()),
  idx2word: z.record(z.string(), z.string()).optional(),
  idx: z.number().int().nonnegative().optional(),
});

/** Options of {@link Vocabulary.build}. */
export interface BuildVocabularyOptions {
  /** Keep words seen at least this many times (the published files use 4). Default 4. */
  threshold?: number;
}

/**
 * A word ↔ id map in the NCR-family format (see the module documentation).
 *
 * @example
 * ```ts
 * const vocab = await Vocabulary.load('vocab/f30k_precomp_vocab.json');
 * vocab.size;                        // 8481 for the published Flickr30K file
 * vocab.encode('a man .');           // [1, id('a'), id('man'), id('.'), 2]
 * await vocab.save('runs/x/vocab.json');
 * ```
 */
export class Vocabulary {
  private readonly index: Map<string, number>;
  /** Words by id. */
  readonly words: readonly string[];

  private constructor(words: string[]) {
    this.words = words;
    this.index = new Map(words.map((w, i) => [w, i]));
  }

  /** Number of ids (the embedding table's rows). */
  get size(): number {
    return this.words.length;
  }

  /** The id of a word (`<unk>`'s id for an unknown one). */
  id(word: string): number {
    return this.index.get(word) ?? this.index.get('<unk>') ?? 3;
  }

  /**
   * Token ids of a caption: `<start>`, the ids of its words, `<end>` (the NCR loader's ids).
   *
   * @example
   * ```ts
   * vocab.encode('A dog.');   // [1, id('a'), id('dog'), id('.'), 2]
   * ```
   */
  encode(caption: string): number[] {
    return [this.id('<start>'), ...wordTokenize(caption).map((w) => this.id(w)), this.id('<end>')];
  }

  /**
   * Token ids of many captions, CSR style (what `PairDataset` stores as `captions.tokens`).
   *
   * @example
   * ```ts
   * const tokens = vocab.encodeAll(['a dog .', 'a cat .']);   // tokens.offsets = [0, 5, 10]
   * ```
   */
  encodeAll(captions: readonly string[]): TokenSequences {
    const offsets = new Int32Array(captions.length + 1);
    const ids: number[] = [];
    captions.forEach((c, j) => {
      for (const t of this.encode(c)) ids.push(t);
      offsets[j + 1] = ids.length;
    });
    return { ids: Int32Array.from(ids), offsets, vocabSize: this.size };
  }

  /**
   * A vocabulary from captions, as NCR's `vocab.py` builds one: the four special tokens, then every
   * word seen at least `threshold` times, in order of first appearance.
   *
   * @example
   * ```ts
   * Vocabulary.build(['a dog', 'a cat'], { threshold: 2 }).words;   // ['<pad>', '<start>', '<end>', '<unk>', 'a']
   * ```
   */
  static build(captions: Iterable<string>, options: BuildVocabularyOptions = {}): Vocabulary {
    const threshold = options.threshold ?? 4;
    const counts = new Map<string, number>();
    for (const c of captions) for (const w of wordTokenize(c)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const words: string[] = [...SPECIAL_TOKENS];
    const seen = new Set<string>(words);
    for (const [w, n] of counts) {
      if (n >= threshold && !seen.has(w)) {
        words.push(w);
        seen.add(w);
      }
    }
    return new Vocabulary(words);
  }

  /**
   * Parse a vocabulary JSON object (`word2idx` is authoritative; ids must be 0..n−1 without gaps).
   *
   * @throws DataError naming `file` when ids repeat or leave gaps, or a special token is missing
   * @example
   * ```ts
   * Vocabulary.fromJSON({ word2idx: { '<pad>': 0, '<start>': 1, '<end>': 2, '<unk>': 3 } }).size;   // 4
   * ```
   */
  static fromJSON(value: unknown, file = 'vocab.json'): Vocabulary {
    const parsed = vocabJsonSchema.safeParse(value);
    if (!parsed.success) {
      throw new DataError(
        `not a vocabulary file: expected { "word2idx": { word: id, … }, "idx2word": …, "idx": n } (${parsed.error.issues[0]?.message})`,
        { file },
      );
    }
    const entries = Object.entries(parsed.data.word2idx);
    const words = new Array<string>(entries.length);
    for (const [w, i] of entries) {
      if (i >= entries.length || words[i] !== undefined) {
        throw new DataError(
          `word2idx: id ${i} of '${w}' is ${i >= entries.length ? 'out of range' : 'used twice'}; ids must be 0..${entries.length - 1}`,
          { file, field: 'word2idx' },
        );
      }
      words[i] = w;
    }
    for (const s of SPECIAL_TOKENS) {
      if (!parsed.data.word2idx[s] && parsed.data.word2idx[s] !== 0) {
        throw new DataError(
          `word2idx has no '${s}' token (NCR vocabularies start with ${SPECIAL_TOKENS.join(' ')})`,
          {
            file,
            field: 'word2idx',
          },
        );
      }
    }
    return new Vocabulary(words);
  }

  /** The NCR JSON form: `{ word2idx, idx2word, idx }`. */
  toJSON(): { word2idx: Record<string, number>; idx2word: Record<string, string>; idx: number } {
    const word2idx: Record<string, number> = {};
    const idx2word: Record<string, string> = {};
    this.words.forEach((w, i) => {
      word2idx[w] = i;
      idx2word[String(i)] = w;
    });
    return { word2idx, idx2word, idx: this.words.length };
  }

  /**
   * Read a vocabulary file.
   * @throws DataError naming the file when it cannot be read or is not a vocabulary
   */
  static async load(path: string): Promise<Vocabulary> {
    let value: unknown;
    try {
      value = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new DataError(`cannot read the vocabulary (${(error as Error).message})`, { file: path });
    }
    return Vocabulary.fromJSON(value, basename(path));
  }

  /** Write the vocabulary (NCR's JSON form) atomically; never over a protected input. */
  async save(path: string, options: { protect?: readonly string[] } = {}): Promise<void> {
    await writeFileAtomic(path, JSON.stringify(this.toJSON()), options);
  }
}
