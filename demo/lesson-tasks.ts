/**
 * The data of the overfitting and bidirectional panels, built without the page (pure, seeded, so a run
 * is the same on every load and test/demo-lesson-tasks.test.ts can check it in Node):
 *
 * - `smallCorpusTask`: a next-character task on a few hundred characters of the everyday sentences — so few
 *   that a model of any size learns them by heart and its loss on the lines that follow turns up.
 * - `maskedTask`: windows of the everyday sentences with one character in the middle replaced by a
 *   mask token; the target is that character at its position and −100 (ignored) everywhere else, so
 *   the loss and the accuracy look at the masked position only. A model that reads left to right has
 *   only the characters before the gap; a bidirectional one has those after it too.
 */
import { IGNORE_INDEX, type TrainBatch, type Vocabulary, encode, textBatches, vocabularyOf } from '../src/index.js';
import { seededUniform } from '../src/random.js';

export interface SmallCorpusTask {
  vocab: Vocabulary;
  train: TrainBatch[];
  heldOut: TrainBatch[];
  /** Characters trained on, and held out. */
  trainChars: number;
  heldOutChars: number;
}

/**
 * The first `trainChars` characters of `text` to train on (batches of B rows of T), the next
 * `heldOutChars` held out (the same).
 */
export function smallCorpusTask(text: string, trainChars: number, heldOutChars: number, T: number, B: number): SmallCorpusTask {
  const chars = Array.from(text.replace(/\n+/g, ''));
  const used = chars.slice(0, trainChars + heldOutChars).join('');
  const vocab = vocabularyOf(used);
  const ids = encode(vocab, used);
  return {
    vocab,
    train: textBatches(ids.subarray(0, trainChars), T, B),
    heldOut: textBatches(ids.subarray(trainChars), T, B),
    trainChars,
    heldOutChars,
  };
}

export interface MaskedTask {
  /** The text's characters; the mask token is id `vocab.chars.length` (one past them). */
  vocab: Vocabulary;
  mask: number;
  /** Window length (the sequence each row is). */
  T: number;
  train: TrainBatch[];
  /** One batch of held-out windows, and for each row its masked position and the hidden character. */
  heldOut: TrainBatch;
  heldOutAnswers: Array<{ position: number; id: number }>;
}

/** The character shown in place of the hidden one. */
export const MASK_CHAR = '□';

/**
 * Windows of T characters of `text` (the first 90% to train on, B per batch, `batches` of them; then
 * `heldOutRows` windows from the last 10%), each with one character at a position in [2, T − 3]
 * replaced by the mask.
 */
export function maskedTask(text: string, T: number, B: number, batches: number, heldOutRows: number, seed = 1): MaskedTask {
  const vocab = vocabularyOf(text.replace(/\n/g, ''));
  const ids = encode(vocab, text.replace(/\n/g, ''));
  const mask = vocab.chars.length;
  const split = Math.floor(ids.length * 0.9);
  const next = seededUniform(seed);
  const window = (from: number, to: number) => {
    const start = from + Math.floor(next() * (to - from - T));
    const position = 2 + Math.floor(next() * (T - 4));
    const tokens = Array.from(ids.subarray(start, start + T));
    const id = tokens[position];
    tokens[position] = mask;
    return { tokens, position, id };
  };
  const batch = (rows: Array<{ tokens: number[]; position: number; id: number }>): TrainBatch => {
    const n = rows.length;
    const tokens = new Int32Array(T * n);
    const target = new Int32Array(T * n).fill(IGNORE_INDEX);
    rows.forEach((r, b) => {
      for (let t = 0; t < T; t++) tokens[t * n + b] = r.tokens[t];
      target[r.position * n + b] = r.id;
    });
    return { tokens: { shape: [T, n], data: tokens }, target: { shape: [T, n], data: target } };
  };
  const train = Array.from({ length: batches }, () => batch(Array.from({ length: B }, () => window(0, split))));
  const held = Array.from({ length: heldOutRows }, () => window(split, ids.length));
  return { vocab, mask, T, train, heldOut: batch(held), heldOutAnswers: held.map(({ position, id }) => ({ position, id })) };
}

/** The share of held-out rows whose most likely character at the mask (logits [T, rows, V]) is the hidden one. */
export function maskedAccuracy(task: MaskedTask, logits: ArrayLike<number>): number {
  const rows = task.heldOutAnswers.length;
  const V = task.vocab.chars.length;
  let right = 0;
  task.heldOutAnswers.forEach(({ position, id }, b) => {
    const at = (position * rows + b) * V;
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[at + v] > logits[at + best]) best = v;
    if (best === id) right++;
  });
  return right / rows;
}
