/**
 * Character-level language-model data from a text (UTF-8: Chinese is one character per code point):
 * a vocabulary of the characters it uses, and batches for truncated backpropagation through time —
 * B streams, each a contiguous stretch of the text, cut into windows of T characters; window k of
 * every stream continues window k − 1, so a trainer can carry the state from one batch to the next
 * (detached), as the classic char-rnn training loop does. The target of each position is the next
 * character.
 */
import { RnnError } from '../errors.js';
import type { TrainBatch } from './batch.js';

export interface Vocabulary {
  /** Characters in id order. */
  readonly chars: readonly string[];
  readonly ids: ReadonlyMap<string, number>;
}

/** The characters of `text` (and of `extra`), sorted by code point, as ids. */
export function vocabularyOf(text: string, extra = ''): Vocabulary {
  const chars = [...new Set(Array.from(text + extra))].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  return { chars, ids: new Map(chars.map((c, i) => [c, i])) };
}

export function encode(vocab: Vocabulary, text: string): Int32Array {
  const chars = Array.from(text);
  return Int32Array.from(chars, (c) => {
    const id = vocab.ids.get(c);
    if (id === undefined) throw new RnnError('TENSOR_INVALID', `text: character ${JSON.stringify(c)} is not in the vocabulary`);
    return id;
  });
}

export function decode(vocab: Vocabulary, ids: ArrayLike<number>): string {
  return Array.from(ids, (i) => vocab.chars[i] ?? '').join('');
}

/**
 * The batches of one pass over `ids`: B streams of ⌊(n − 1) / B⌋ positions each, in windows of T
 * (the last, shorter window dropped, so every batch has one shape and one training plan).
 */
export function textBatches(ids: Int32Array, T: number, B: number): TrainBatch[] {
  const per = Math.floor((ids.length - 1) / B);
  const windows = Math.floor(per / T);
  if (windows < 1)
    throw new RnnError('TENSOR_INVALID', `text: ${ids.length} characters make no window of T=${T} for B=${B} streams; use a longer text or smaller T or B`);
  const batches: TrainBatch[] = [];
  for (let w = 0; w < windows; w++) {
    const tokens = new Int32Array(T * B);
    const target = new Int32Array(T * B);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const at = b * per + w * T + t;
        tokens[t * B + b] = ids[at];
        target[t * B + b] = ids[at + 1];
      }
    }
    batches.push({ tokens: { shape: [T, B], data: tokens }, target: { shape: [T, B], data: target } });
  }
  return batches;
}

/** The unigram baseline: the cross-entropy (nats) of predicting each character by its frequency. */
export function unigramLoss(ids: Int32Array, vocabSize: number): number {
  const counts = new Float64Array(vocabSize);
  for (const i of ids) counts[i]++;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / ids.length) * Math.log(c / ids.length);
  return h;
}
