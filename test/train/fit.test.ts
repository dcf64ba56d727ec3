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
const model = {
  embedding: { num_embeddings: V, embedding_dim: 4 },
  rnn: { mode: 'GRU' as const, input_size: 4, hidden_size: 8 },
  head: { out_features: V },
  loss: 'cross_entropy' as const,
};

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
      for (let t = 0; t < 5; t++)
        for (let b = 0; b < 3; b++) {
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
    // lr 1e-300: every update is below the parameters' last bit, so nothing changes, and the
    // validation loss never improves after the first.
    const trainer = await createTrainer({ model, backend: 'cpu', optimizer: { name: 'sgd', lr: 1e-300 }, init: { seed: 1 } });
    const report = await trainer.fit(batches, { epochs: 10, validation, validateEvery: 2, earlyStopping: { patience: 2 } });
    expect(report.stopped).toBe('early');
    expect(report.validation.map(([s]) => s)).toEqual([2, 4, 6]);
    expect(report.steps).toBe(6);
    expect(new Set(report.validation.map(([, l]) => l)).size).toBe(1);
  });

  it('hands checkpoints to onCheckpoint every checkpointEvery steps and at each best validation loss; restoreBest ends on the best weights', async () => {
    // A high learning rate overfits the small text quickly: the validation loss turns up within the run.
    const options = { model, backend: 'cpu' as const, optimizer: { name: 'adam' as const, lr: 0.05 }, init: { seed: 4 } };
    const trainer = await createTrainer(options);
    const saved: Array<[number, string, number]> = [];
    const atBest = new Map<number, Uint8Array>();
    const report = await trainer.fit(batches, {
      epochs: 6,
      validation,
      validateEvery: 2,
      earlyStopping: { patience: 2 },
      restoreBest: true,
      checkpointEvery: 5,
      onCheckpoint: (bytes, info) => {
        saved.push([info.step, info.reason, bytes.length]);
        if (info.reason === 'best') atBest.set(info.step, bytes);
      },
    });
    const bestSteps = report.validation.filter(([, l], i) => report.validation.slice(0, i).every(([, m]) => l < m)).map(([s]) => s);
    expect(saved.filter(([, r]) => r === 'best').map(([s]) => s)).toEqual(bestSteps);
    expect(saved.filter(([, r]) => r === 'every').map(([s]) => s)).toEqual(Array.from({ length: Math.floor(report.steps / 5) }, (_, i) => 5 * (i + 1)));
    const best = bestSteps.at(-1)!;
    // Restored: the weights of the best step's checkpoint, while the step count stays the last step's.
    expect(report.stopped).toBe('early');
    expect(best).toBeLessThan(report.steps);
    expect(report.restored).toBe(best);
    const again = await createTrainer({ resume: atBest.get(best)!, backend: 'cpu' });
    const flat = async (t: { parameters(): Promise<Record<string, { data: ArrayLike<number> }>> }) =>
      Object.values(await t.parameters()).flatMap((p) => Array.from(p.data));
    expect(await flat(trainer)).toEqual(await flat(again));
    expect(trainer.steps).toBe(report.steps);
    expect(again.steps).toBe(best);
    await expect(trainer.fit(batches, { checkpointEvery: 2 })).rejects.toThrow(/checkpointEvery: needs onCheckpoint/);
    await expect(trainer.fit(batches, { restoreBest: true })).rejects.toThrow(/restoreBest: needs validation batches/);
  });

  it('a run resumed from any of its checkpoints stops early, and restores the best weights, exactly where the uninterrupted run did', async () => {
    // The overfitting run above: its checkpoints carry fit's early-stopping state (the best loss, its
    // step and weights, the validations since), so patience counts on across the resume.
    const options = { model, backend: 'cpu' as const, optimizer: { name: 'adam' as const, lr: 0.05 }, init: { seed: 4 } };
    const fitOptions = { epochs: 6, validation, validateEvery: 2, earlyStopping: { patience: 3 }, restoreBest: true };
    const whole = await createTrainer(options);
    const kept: Array<[number, Uint8Array]> = [];
    const report = await whole.fit(batches, {
      ...fitOptions,
      checkpointEvery: 3,
      onCheckpoint: (bytes, info) => void (info.reason === 'every' && kept.push([info.step, bytes])),
    });
    expect(report.stopped).toBe('early');
    expect(report.restored).toBeLessThan(report.steps);
    const flat = async (t: { parameters(): Promise<Record<string, { data: ArrayLike<number> }>> }) =>
      Object.values(await t.parameters()).flatMap((p) => Array.from(p.data));
    const expected = await flat(whole);
    // Checkpoints taken while the validation loss was stale and the best lay behind: the hard cases.
    const stale = kept.filter(([step]) => step > report.restored! && step < report.steps);
    expect(stale.length).toBeGreaterThan(0);
    for (const [step, bytes] of kept) {
      const resumed = await createTrainer({ resume: bytes, backend: 'cpu' });
      expect(resumed.resumedFit?.step).toBe(step);
      const rest = await resumed.fit(batches, { ...fitOptions, startStep: resumed.steps });
      expect([rest.stopped, rest.steps, rest.restored]).toEqual([report.stopped, report.steps, report.restored]);
      expect(await flat(resumed)).toEqual(expected);
      expect(rest.validation).toEqual(report.validation.filter(([s]) => s > step));
    }
  });

  it('a validation loss reaches onProgress whenever it was computed, also on steps that did not read the loss', async () => {
    const trainer = await createTrainer({ model, backend: 'cpu', optimizer: { name: 'adam', lr: 0.01 } });
    const seen: FitProgress[] = [];
    await trainer.fit(batches, { maxSteps: 9, readEvery: 4, validation, validateEvery: 3, onProgress: (p) => void seen.push(p) });
    expect(seen.map((p) => [p.step, p.loss !== undefined, p.validationLoss !== undefined])).toEqual([
      [3, false, true],
      [4, true, false],
      [6, false, true],
      [8, true, false],
      [9, true, true],
    ]);
  });

  it('validation does not disturb the carried training state: the steps are those of a run without it', async () => {
    const run = async (withValidation: boolean) => {
      const trainer = await createTrainer({ model, backend: 'cpu', optimizer: { name: 'adam', lr: 0.02 }, init: { seed: 2 } });
      const report = await trainer.fit(batches, { maxSteps: 8, carryState: true, ...(withValidation ? { validation, validateEvery: 2 } : {}) });
      return report.losses.map(([, l]) => l);
    };
    expect(await run(true)).toEqual(await run(false));
  });

  it('stops at the first non-finite training loss (a learning rate that overflows), keeping the last finite parameters, whenever the loss is read', async () => {
    const relu = { ...model, rnn: { ...model.rnn, mode: 'RNN_RELU' as const } };
    for (const readEvery of [1, 5]) {
      const trainer = await createTrainer({ model: relu, backend: 'cpu', optimizer: { name: 'sgd', lr: 1e200 }, init: { seed: 1 } });
      const report = await trainer.fit(batches, { epochs: 20, readEvery });
      expect(report.stopped).toBe('non-finite');
      const at = report.nonFinite!;
      expect(at.what).toBe('training');
      expect(Number.isFinite(at.loss)).toBe(false);
      expect(at.message).toMatch(new RegExp(`training step ${at.step}: the (loss|gradient norm) was`));
      expect([report.steps, trainer.steps]).toEqual([at.step - 1, at.step - 1]);
      // Every loss read before it was finite, and the parameters are finite.
      expect(report.losses.every(([s, l]) => s < at.step && Number.isFinite(l))).toBe(true);
      const params = await trainer.parameters();
      expect(Object.values(params).every((t) => t.data.every(Number.isFinite))).toBe(true);
    }
  });

  it('stops at a NaN in the training data, with the parameters of the step before it', async () => {
    const regressor = { rnn: { mode: 'GRU' as const, input_size: 2, hidden_size: 3 }, head: { out_features: 1 }, loss: 'mse' as const };
    const batch = (k: number, poison = false) => ({
      input: { shape: [3, 1, 2], data: Float32Array.from({ length: 6 }, (_, i) => (poison && i === 4 ? Number.NaN : Math.sin(k + i))) },
      target: { shape: [3, 1, 1], data: Float32Array.from({ length: 3 }, (_, i) => Math.cos(k + i)) },
    });
    const data = [batch(1), batch(2), batch(3), batch(4, true), batch(5)];
    const trainer = await createTrainer({ model: regressor, backend: 'cpu', optimizer: { name: 'adam', lr: 0.01 }, init: { seed: 3 } });
    const clean = await createTrainer({ model: regressor, backend: 'cpu', optimizer: { name: 'adam', lr: 0.01 }, init: { seed: 3 } });
    const report = await trainer.fit(data, { epochs: 3, readEvery: 10 });
    await clean.fit(data.slice(0, 3), { epochs: 1 });
    expect([report.stopped, report.nonFinite?.step, report.steps]).toEqual(['non-finite', 4, 3]);
    expect(report.nonFinite!.message).toMatch(/training step 4: the loss was NaN \(not finite\), so it made no update, nor did the 6 step\(s\) after it/);
    expect(await trainer.parameters()).toEqual(await clean.parameters());
    // checkFinite names the element instead, before anything runs.
    const checked = await createTrainer({ model: regressor, backend: 'cpu', checkFinite: true });
    await expect(checked.trainStep(data[3])).rejects.toThrow(/^batch\.input: element 4 is NaN/);
    await expect(checked.trainStep({ ...data[0], target: { shape: [3, 1, 1], data: Float32Array.of(1, Number.POSITIVE_INFINITY, 2) } })).rejects.toMatchObject({
      code: 'NON_FINITE',
      message: expect.stringMatching(/^batch\.target: element 1 is Infinity/),
    });
    expect(checked.steps).toBe(0);
  });

  it('stops at a non-finite validation loss', async () => {
    const input = { shape: [3, 1, 2], data: Float32Array.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6) };
    const mseModel = { rnn: { mode: 'GRU' as const, input_size: 2, hidden_size: 3 }, head: { out_features: 1 }, loss: 'mse' as const };
    const trainer = await createTrainer({ model: mseModel, backend: 'cpu', optimizer: { name: 'sgd', lr: 0.1 } });
    const good = { input, target: { shape: [3, 1, 1], data: Float32Array.of(1, 2, 3) } };
    const poisoned = { input, target: { shape: [3, 1, 1], data: Float32Array.of(1, Number.NaN, 3) } };
    const report = await trainer.fit([good], { epochs: 10, validation: [poisoned], validateEvery: 2 });
    expect([report.stopped, report.steps, report.nonFinite?.what, report.nonFinite?.step]).toEqual(['non-finite', 2, 'validation', 2]);
    expect(report.nonFinite!.message).toMatch(/validation loss after step 2 was NaN/);
  });

  it('stops when asked: onProgress returning false, or an aborted signal; maxSteps caps the run', async () => {
    const trainer = await createTrainer({ model, backend: 'cpu', optimizer: { name: 'sgd', lr: 0.1 } });
    expect((await trainer.fit(batches, { epochs: 5, onProgress: (p) => p.step < 3 })).steps).toBe(3);
    const controller = new AbortController();
    const aborted = await trainer.fit(batches, {
      epochs: 5,
      onProgress: (p) => {
        if (p.step === 2) controller.abort();
      },
      signal: controller.signal,
    });
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
