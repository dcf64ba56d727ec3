// Decoding an encoder–decoder on the CPU backend (src/train/decode.ts), against what the rules say,
// computed independently: beam search wide enough to keep every candidate finds the best sequence
// among all of them (each scored by one teacher-forced forward); greedy decoding is the argmax rollout;
// padding past a row's source length changes nothing; attention rows are distributions over the row's
// source; every mistake is a named RnnError.
import { describe, expect, it } from 'vitest';
import { createTrainer } from '../../src/train/trainer.js';
import type { Seq2SeqConfigInput } from '../../src/train/seq2seq-config.js';
import type { Trainer } from '../../src/train/trainer.js';
import type { Seq2SeqConfig } from '../../src/train/seq2seq-config.js';

const V = 4; // target vocabulary: bos 0, eos 1
const [BOS, EOS] = [0, 1];

const models: Record<string, Seq2SeqConfigInput> = {
  after: {
    source_embedding: { num_embeddings: 5, embedding_dim: 3 },
    target_embedding: { num_embeddings: V, embedding_dim: 3 },
    encoder: { mode: 'GRU', input_size: 3, hidden_size: 4, bidirectional: true },
    decoder: { mode: 'GRU', input_size: 3, hidden_size: 8 },
    bridge: 'copy',
    attention: { score: 'general', combine_size: 5 },
  },
  before: {
    source_embedding: { num_embeddings: 5, embedding_dim: 3 },
    target_embedding: { num_embeddings: V, embedding_dim: 3 },
    encoder: { mode: 'LSTM', input_size: 3, hidden_size: 4 },
    decoder: { mode: 'LSTM', input_size: 7, hidden_size: 5 },
    attention: { score: 'concat', attention_size: 3, placement: 'before' },
  },
};

const source = { shape: [4, 2], data: Int32Array.of(1, 2, 3, 4, 0, 2, 4, 1) };

/** log p(y) of a whole target sequence (bos prepended), teacher-forced, by the trainer's predict. */
async function sequenceScore(trainer: Trainer<Seq2SeqConfig>, row: number, ys: number[], sourceLengths?: number[]): Promise<number> {
  const S = source.shape[0];
  const src = { shape: [S, 1], data: Int32Array.from({ length: S }, (_, s) => source.data[s * 2 + row]) };
  const targetIn = { shape: [ys.length, 1], data: Int32Array.from([BOS, ...ys.slice(0, -1)]) };
  const logits = await trainer.predict({ source: src, target_in: targetIn, ...(sourceLengths ? { source_lengths: [sourceLengths[row]] } : {}) });
  let score = 0;
  ys.forEach((y, t) => {
    const row = Array.from(logits.data.slice(t * V, (t + 1) * V));
    const max = Math.max(...row);
    score += row[y] - max - Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
  });
  return score;
}

/** Every sequence of at most L tokens that ends at its first eos or at L. */
function allSequences(L: number): number[][] {
  const out: number[][] = [];
  const grow = (prefix: number[]) => {
    for (let y = 0; y < V; y++) {
      const seq = [...prefix, y];
      if (y === EOS || seq.length === L) out.push(seq);
      else grow(seq);
    }
  };
  grow([]);
  return out;
}

describe.each(Object.keys(models))('decoding, attention %s the decoder (CPU)', (placement) => {
  const model = models[placement];
  // Random weights, with eos made rarer: without a length penalty a random model's best is mostly eos
  // at once, which would leave the parents untested.
  const make = async () => {
    const first = await createTrainer({ model, backend: 'cpu', init: { scheme: 'kaiming', seed: 3 } });
    const weights = await first.parameters();
    await first.destroy();
    const bias = Float64Array.from(weights['head.bias'].data);
    bias[EOS] -= 4;
    return createTrainer({ model, backend: 'cpu', weights: { ...weights, 'head.bias': { shape: [V], data: bias } } });
  };

  it('beam search wide enough for every candidate finds the best of all sequences', async () => {
    const trainer = await make();
    const L = 3;
    const result = await trainer.decode(source, { bos: BOS, eos: EOS, maxLength: L, beam: 16 });
    for (let row = 0; row < 2; row++) {
      let best = { score: Number.NEGATIVE_INFINITY, seq: [] as number[] };
      for (const seq of allSequences(L)) {
        const score = await sequenceScore(trainer, row, seq);
        if (score > best.score) best = { score, seq };
      }
      const n = result.lengths[row];
      expect(n, 'an answer longer than one token (the parents matter)').toBeGreaterThan(1);
      expect(Array.from(result.tokens.data.slice(row * L, row * L + n))).toEqual(best.seq);
      expect(result.score[row]).toBeCloseTo(best.score, 9);
      // eos after the end.
      for (let t = n; t < L; t++) expect(result.tokens.data[row * L + t]).toBe(EOS);
    }
    await trainer.destroy();
  });

  it('greedy decoding is the argmax rollout, with the attention of each step', async () => {
    const trainer = await make();
    const L = 5;
    const result = await trainer.decode(source, { bos: BOS, eos: EOS, maxLength: L, sourceLengths: [4, 2] });
    for (let row = 0; row < 2; row++) {
      const ys: number[] = [];
      let score = 0;
      while (ys.length < L) {
        // The argmax of the next position given the tokens so far.
        let bestY = 0;
        let bestScore = Number.NEGATIVE_INFINITY;
        for (let y = 0; y < V; y++) {
          const s = await sequenceScore(trainer, row, [...ys, y], [4, 2]);
          if (s > bestScore) [bestY, bestScore] = [y, s];
        }
        ys.push(bestY);
        score = bestScore;
        if (bestY === EOS) break;
      }
      expect(result.lengths[row]).toBe(ys.length);
      expect(Array.from(result.tokens.data.slice(row * L, row * L + ys.length))).toEqual(ys);
      expect(result.score[row]).toBeCloseTo(score, 9);
      const S = 4;
      const len = [4, 2][row];
      for (let t = 0; t < L; t++) {
        const a = Array.from(result.attention.data.slice((row * L + t) * S, (row * L + t + 1) * S));
        const sum = a.reduce((x, y) => x + y, 0);
        if (t < ys.length) expect(sum).toBeCloseTo(1, 12);
        else expect(sum).toBe(0);
        for (let s = len; s < S; s++) expect(a[s]).toBe(0);
      }
    }
    await trainer.destroy();
  });

  it("padding past a row's source length changes nothing", async () => {
    const trainer = await make();
    const o = { bos: BOS, eos: EOS, maxLength: 4, beam: 3 };
    const padded = await trainer.decode({ shape: [4, 1], data: Int32Array.of(2, 4, 3, 3) }, { ...o, sourceLengths: [2] });
    const alone = await trainer.decode({ shape: [2, 1], data: Int32Array.of(2, 4) }, o);
    expect(Array.from(padded.tokens.data)).toEqual(Array.from(alone.tokens.data));
    expect(padded.score[0]).toBeCloseTo(alone.score[0], 12);
    await trainer.destroy();
  });
});

describe('decode: mistakes are named', () => {
  it.each([
    ['bos outside the vocabulary', { bos: 4, eos: 1, maxLength: 3 }, /decode options\.bos: expected an integer in \[0, 3\], got 4/],
    ['eos missing', { bos: 0, maxLength: 3 }, /decode options\.eos: missing/],
    ['beam 0', { bos: 0, eos: 1, maxLength: 3, beam: 0 }, /decode options\.beam: expected an integer in \[1, 16\], got 0/],
    ['beam 17', { bos: 0, eos: 1, maxLength: 3, beam: 17 }, /decode options\.beam/],
    ['maxLength 0', { bos: 0, eos: 1, maxLength: 0 }, /decode options\.maxLength/],
    ['an unknown option', { bos: 0, eos: 1, maxLength: 3, beams: 2 }, /beams/],
    ['a source length past S', { bos: 0, eos: 1, maxLength: 3, sourceLengths: [4, 5] }, /^decode options\.sourceLengths\[1\] = 5/],
  ])('%s', async (_what, options, message) => {
    const trainer = await createTrainer({ model: models.after, backend: 'cpu' });
    await expect(trainer.decode(source, options as never)).rejects.toMatchObject({ message: expect.stringMatching(message) });
    await trainer.destroy();
  });

  it('a source of the wrong shape, or ids past the vocabulary', async () => {
    const trainer = await createTrainer({ model: models.after, backend: 'cpu' });
    const o = { bos: 0, eos: 1, maxLength: 3 };
    await expect(trainer.decode({ shape: [8], data: new Int32Array(8) }, o)).rejects.toMatchObject({
      code: 'TENSOR_INVALID',
      message: expect.stringMatching(/^decode source: expected \[S, B\]/),
    });
    await expect(trainer.decode({ shape: [1, 1], data: Int32Array.of(5) }, o)).rejects.toMatchObject({
      code: 'TENSOR_INVALID',
      message: expect.stringMatching(/^decode source\[0\] = 5/),
    });
    await trainer.destroy();
  });

  it('a language model does not decode', async () => {
    const trainer = await createTrainer({ model: { rnn: { mode: 'GRU', input_size: 2, hidden_size: 3 }, loss: 'mse' }, backend: 'cpu' });
    await expect(trainer.decode(source, { bos: 0, eos: 1, maxLength: 3 })).rejects.toThrow(/only an encoder–decoder decodes/);
    await trainer.destroy();
  });
});
