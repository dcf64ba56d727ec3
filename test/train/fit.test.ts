// fit (src/train/fit.ts) and the text helpers (src/train/text.ts), on the CPU trainer (their logic is
// the host's): epochs and maxSteps, progress reports, the loss read every readEvery steps, validation
// and early stopping, stopping from outside; truncated-BPTT batches that continue one another.
import { describe, expect, it } from 'vitest';
import { RnnError } from '../../src/errors.js';
import { createTrainer } from '../../src/train/trainer.js';
import { decode, encode, textBatches, unigramLoss, vocabularyOf } from '../../src/train/text.js';
import type { FitProgress } from '../../src/train/fit.js';

const text = 'the cat sat on the mat. the dog sat on the log. '.repeat(6);
const vocab = vocabularyOf(text);
const ids = encode(vocab, text);
const V = vocab.chars.length;
const model = { embedding: { num_embeddings: V, embedding_dim: 4 }, rnn: { mode: 'GRU' as const, input_size: 4, hidden_size: 8 }, head: { out_features: V }, loss: 'cross_entropy' as const };

describe('text helpers', () => {
  it('vocabulary by code point, encode / decode round trip (Chinese too), unknown characters named', () => {
    const zh = vocabularyOf('今天天气很好');
    expect(zh.chars).toEqual([...'今天天气很好'].filter((c, i, a) => a.indexOf(c) === i).sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
    expect(decode(zh, encode(zh, '天气很好'))).toBe('天气很好');
    expect(() => encode(zh, '下雨')).toThrow(/character "下" is not in the vocabulary/);
  });

  it('textBatches: B streams of consecutive windows; window k continues window k − 1; targets are the next character', () => {
    const batches = textBatches(ids, 5, 3);
    const per = Math.floor((ids.length - 1) / 3);
    expect(batches).toHaveLength(Math.floor(per / 5));
    for (const [w, batch] of batches.entries()) {
      for (let t = 0; t < 5; t++) for (let b = 0; b < 3; b++) {
        expect(batch.tokens!.data[t * 3 + b]).toBe(ids[b * per + w * 5 + t]);
        expect(batch.target.data[t * 3 + b]).toBe(ids[b * per + w * 5 + t + 1]);
      }
    }
    expect(() => textBatches(ids.subarray(0, 10), 5, 3)).toThrow(RnnError);
  });

  it('unigramLoss is the entropy of the character frequencies', () => {
    expect(unigramLoss(Int32Array.of(0, 0, 1, 1), 2)).toBeCloseTo(Math.log(2), 12);
    expect(unigramLoss(Int32Array.of(3, 3, 3), 4)).toBe(0);
  });
});

describe('fit', () => {
  const batches = textBatches(ids, 8, 2);
  const validation = textBatches(ids.subarray(0, 60), 8, 1);

  it('runs epochs × batches steps, reports progress where it reads the loss, and learns', async () => {
    const trainer = await createTrainer({ model, backend: 'cpu', optimizer: { name: 'adam', lr: 0.05 }, init: { seed: 1 } });
    const seen: FitProgress[] = [];
    const report = await trainer.fit(batches, { epochs: 3, readEvery: 4, carryState: true, onProgress: (p) => void seen.push(p) });
    const total = 3 * batches.length;
    expect(report.steps).toBe(total);
    expect(report.stopped).toBe('done');
    expect(seen.map((p) => p.step)).toEqual([...Array.from({ length: Math.floor(total / 4) }, (_, i) => 4 * (i + 1)), ...(total % 4 ? [total] : [])]);
    expect(seen.every((p) => p.tokensPerSecond > 0 && p.etaSeconds >= 0 && Number.isFinite(p.loss))).toBe(true);
    expect(seen.at(-1)!.etaSeconds).toBe(0);
    expect(report.losses.at(-1)![1]).toBeLessThan(report.losses[0][1]);
    expect(trainer.steps).toBe(total);
  });

  it('validates every validateEvery steps and stops early when the validation loss stalls', async () => {
    // lr 0: nothing changes, so the validation loss never improves after the first.
    const trainer = await createTrainer({ model, backend: 'cpu', optimizer: { name: 'sgd', lr: 0 }, init: { seed: 1 } });
    const report = await trainer.fit(batches, { epochs: 10, validation, validateEvery: 2, earlyStopping: { patience: 2 } });
    expect(report.stopped).toBe('early');
    expect(report.validation.map(([s]) => s)).toEqual([2, 4, 6]);
    expect(report.steps).toBe(6);
    expect(new Set(report.validation.map(([, l]) => l)).size).toBe(1);
  });

  it('stops when asked: onProgress returning false, or an aborted signal; maxSteps caps the run', async () => {
    const trainer = await createTrainer({ model, backend: 'cpu', optimizer: { name: 'sgd', lr: 0.1 } });
    expect((await trainer.fit(batches, { epochs: 5, onProgress: (p) => p.step < 3 })).steps).toBe(3);
    const controller = new AbortController();
    const aborted = await trainer.fit(batches, { epochs: 5, onProgress: (p) => { if (p.step === 2) controller.abort(); }, signal: controller.signal });
    expect([aborted.steps, aborted.stopped]).toEqual([2, 'aborted']);
    expect((await trainer.fit(batches, { epochs: 5, maxSteps: 4 })).steps).toBe(4);
  });

  it.each([
    [[], {}, /fit: expected a non-empty array of batches/],
    [null, {}, /fit: expected a non-empty array of batches/],
    [undefined, { epochs: 0 }, /fit options.epochs: expected a positive integer, got 0/],
    [undefined, { readEvery: 1.5 }, /fit options.readEvery: expected a positive integer, got 1.5/],
    [undefined, { epoch: 2 }, /fit options: unknown/],
  ])('bad arguments are named: %j %j', async (given, options, message) => {
    const trainer = await createTrainer({ model, backend: 'cpu' });
    await expect(trainer.fit((given === undefined ? batches : given) as never, options as never)).rejects.toThrow(message);
  });
});
