// The encoder–decoder through the public API on the CPU backend: it learns a small task, predict gives
// the logits of every target step, and every mistake in the model description or a batch is one
// RnnError naming the key or tensor, before anything runs.
import { describe, expect, it } from 'vitest';
import { createTrainer } from '../../src/train/trainer.js';
import type { Seq2SeqConfigInput } from '../../src/train/seq2seq-config.js';

const model: Seq2SeqConfigInput = {
  source_embedding: { num_embeddings: 6, embedding_dim: 4 },
  target_embedding: { num_embeddings: 6, embedding_dim: 4 },
  encoder: { mode: 'GRU', input_size: 4, hidden_size: 8 },
  decoder: { mode: 'GRU', input_size: 4, hidden_size: 8 },
  bridge: 'copy',
  attention: { score: 'dot', placement: 'after', combine_size: 8 },
};

/** Reverse a sequence of 3 digits (1 … 5): source [3, B], target_in [BOS, y0, y1], target [y0, y1, y2]. */
function reverseBatch(B: number, seed: number) {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const src = Array.from({ length: B }, () => Array.from({ length: 3 }, () => 1 + Math.floor(next() * 5)));
  const tm = (f: (b: number, t: number) => number, T: number) => Int32Array.from({ length: T * B }, (_, i) => f(i % B, Math.floor(i / B)));
  return {
    source: { shape: [3, B], data: tm((b, t) => src[b][t], 3) },
    target_in: { shape: [3, B], data: tm((b, t) => (t === 0 ? 0 : src[b][3 - t]), 3) },
    target: { shape: [3, B], data: tm((b, t) => src[b][2 - t], 3) },
  };
}

describe('encoder–decoder on the CPU backend', () => {
  it('learns to reverse three digits; predict gives [T, B, V] logits', async () => {
    const trainer = await createTrainer({ model, backend: 'cpu', optimizer: { name: 'adam', lr: 0.03 }, init: { seed: 2 } });
    const batches = [1, 2, 3, 4].map((k) => reverseBatch(16, k));
    const report = await trainer.fit(batches, { epochs: 40, readEvery: 20 });
    const first = report.losses[0][1];
    const last = report.losses.at(-1)![1];
    expect(last).toBeLessThan(first / 4);
    const test = reverseBatch(8, 99);
    const logits = await trainer.predict({ source: test.source, target_in: test.target_in });
    expect(logits.shape).toEqual([3, 8, 6]);
    let correct = 0;
    for (let i = 0; i < 24; i++) {
      const row = Array.from(logits.data.subarray(i * 6, (i + 1) * 6));
      if (row.indexOf(Math.max(...row)) === test.target.data[i]) correct++;
    }
    expect(correct).toBeGreaterThanOrEqual(20);
    const state = await trainer.parameters();
    expect(Object.keys(state)).toContain('combine.weight');
  });

  it.each([
    [
      { ...model, bridge: 'copy', decoder: { ...model.decoder, hidden_size: 7 } },
      /model\.bridge "copy": decoder\.hidden_size must be 1·encoder\.hidden_size = 8/,
    ],
    [
      { ...model, bridge: 'copy', decoder: { mode: 'LSTM', input_size: 4, hidden_size: 8 } },
      /model\.bridge "copy": the decoder must be an GRU as the encoder is/,
    ],
    [
      { ...model, bridge: 'zeros', decoder: { ...model.decoder, hidden_size: 7 } },
      /model\.attention\.score "dot": the decoder's output \(7\) and the encoder's \(8\) must have one width/,
    ],
    [
      { ...model, attention: { score: 'dot', placement: 'before' } },
      /model\.decoder\.input_size must be target_embedding\.embedding_dim \+ the encoder's 8 output features = 12/,
    ],
    [
      { ...model, decoder: { ...model.decoder, input_size: 12, recurrent_dropout: 0.2 }, attention: { score: 'dot', placement: 'before' } },
      /model\.decoder\.recurrent_dropout: not with the "before" placement/,
    ],
    [{ ...model, encoder: { ...model.encoder, recurrent_dropout: 1 } }, /model\.encoder: recurrent_dropout: expected a number in \[0, 1\), got 1/],
    [{ ...model, attention: { score: 'concat' } }, /model\.attention\.attention_size: expected a positive integer, got undefined/],
    [{ ...model, attention: { score: 'cosine' } }, /model\.attention\.score: expected "dot", "general" or "concat", got "cosine"/],
    [{ ...model, decoder: { ...model.decoder, bidirectional: true } }, /model\.decoder\.bidirectional: a decoder runs forward only/],
    [{ ...model, extra: 1 }, /model: unknown key\(s\) "extra"/],
    [{ ...model, loss: 'mse' }, /model\.loss: an encoder–decoder trains with "cross_entropy"/],
  ])('model mistake %#', async (bad, message) => {
    await expect(createTrainer({ model: bad as never, backend: 'cpu' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(message),
    });
  });

  it('batch mistakes are named and change nothing', async () => {
    const trainer = await createTrainer({ model, backend: 'cpu' });
    const ok = reverseBatch(2, 1);
    const cases: Array<[object, RegExp]> = [
      [{ ...ok, source: { shape: [3, 2], data: Int32Array.of(1, 2, 3, 4, 5, 6) } }, /batch\.source\[5\] = 6: ids must be in \[0, 6\)/],
      [{ ...ok, target_in: { shape: [3, 3], data: new Int32Array(9) } }, /batch\.target_in: expected 2 rows as batch\.source has/],
      [{ ...ok, target: { shape: [3, 2], data: Int32Array.of(0, 1, 2, 3, 4, 9) } }, /batch\.target\[5\] = 9: class ids must be in \[0, 6\) or -100/],
      [{ ...ok, source_lengths: [3, 4] }, /batch\.source_lengths\[1\] = 4: each length must be an integer in \[1, S=3\]/],
      [{ source: ok.source, target_in: ok.target_in }, /batch\.target: missing/],
      [{ ...ok, tokens: ok.source }, /batch: unknown option\(s\) "tokens"/],
    ];
    for (const [batch, message] of cases) await expect(trainer.trainStep(batch as never)).rejects.toThrow(message);
    expect(trainer.steps).toBe(0);
    await expect(trainer.predict({ source: ok.source, target_in: ok.target_in }, { carryState: true })).rejects.toThrow(/carries no state/);
    await expect(trainer.sample([1])).rejects.toThrow(/decodes a source/);
    await expect(trainer.toRnn()).rejects.toThrow(/two recurrent modules/);
  });

  it('attention "before" the decoder trains on WebGPU; past its kernel\'s limits (9 layers) WebGPU is refused by name and "auto" takes the CPU', async () => {
    const before = { ...model, decoder: { ...model.decoder, input_size: 12 }, attention: { score: 'dot' as const, placement: 'before' as const } };
    const gpu = await createTrainer({ model: before });
    expect(gpu.backend).toBe('webgpu');
    await gpu.destroy();
    const deep = {
      ...before,
      encoder: { ...before.encoder, num_layers: 9 },
      decoder: { ...before.decoder, num_layers: 9 },
    };
    await expect(createTrainer({ model: deep })).rejects.toMatchObject({
      code: 'OPTION_INVALID',
      message: expect.stringMatching(/"before".*num_layers 9 > 8.*backend "cpu"/),
    });
    const auto = await createTrainer({ model: deep, backend: 'auto' });
    expect(auto.backend).toBe('cpu');
    await auto.destroy();
  });

  it('carries no state between batches: carryState is refused on every call', async () => {
    const trainer = await createTrainer({ model, backend: 'cpu' });
    const batch = reverseBatch(2, 1);
    for (const call of [() => trainer.trainStep(batch, { carryState: true }), () => trainer.evaluate(batch, { carryState: true })])
      await expect(call()).rejects.toMatchObject({ code: 'OPTION_INVALID', message: expect.stringMatching(/carries no state/) });
    await trainer.destroy();
  });
});
