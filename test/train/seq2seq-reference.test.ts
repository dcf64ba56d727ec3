// The float64 reference of the encoder–decoder with attention against PyTorch (fixtures from
// test/fixtures/generate_seq2seq.py): the loss, every parameter's gradient and the attention weights on
// every score, placement, bridge and mode, and Adam trajectories; gradients by finite differences on
// tiny models, dropout between stacked layers included.
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../src/tensor.js';
import { prepareBatch } from '../../src/train/batch.js';
import { CpuTrainer } from '../../src/train/cpu-trainer.js';
import { gradcheck } from '../../src/train/gradcheck.js';
import { trainModel } from '../../src/train/model.js';
import { resolveOptimizer } from '../../src/train/optim.js';
import { modelForward } from '../../src/train/reference-model.js';
import { type Seq2SeqConfigInput, resolveSeq2SeqConfig } from '../../src/train/seq2seq-config.js';
import { seededUniform } from '../../src/random.js';
import { expectClose } from '../support/compare.js';
import { loadNodeBytes } from '../support/node-fixtures.js';
import { loadSeq2SeqFixture, seq2seqCases } from '../support/seq2seq-fixtures.js';

const cases = await seq2seqCases(loadNodeBytes);
const RTOL = 1e-9;
const f64 = (t: Tensor) => Float64Array.from(t.data);

describe('encoder–decoder reference vs PyTorch', () => {
  it('the fixtures cover every score, placement, bridge and mode', () => {
    const seen = (f: (m: Seq2SeqConfigInput) => string) => new Set(cases.map((c) => f(c.model)));
    expect([...seen((m) => m.attention.score)].sort()).toEqual(['concat', 'dot', 'general']);
    expect([...seen((m) => m.attention.placement ?? 'after')].sort()).toEqual(['after', 'before']);
    expect([...seen((m) => m.bridge ?? 'zeros')].sort()).toEqual(['copy', 'zeros']);
    expect([...seen((m) => m.encoder.mode)].sort()).toEqual(['GRU', 'LSTM', 'RNN_RELU', 'RNN_TANH']);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, meta) => {
    const f = await loadSeq2SeqFixture(loadNodeBytes, meta);
    const config = resolveSeq2SeqConfig(meta.model);
    const params = Object.fromEntries(Object.entries(f.params).map(([k, v]) => [k, f64(v)]));
    expect(Object.keys(params).sort()).toEqual(
      trainModel(config)
        .specs.map((s) => s.name)
        .sort(),
    ); // PyTorch's names, all of them
    const batch = prepareBatch(config, f.batch);
    const trainer = new CpuTrainer(config, params);
    const g = await trainer.gradients(batch, { flow: false });
    expect(Math.abs(g.loss - f.loss) / Math.abs(f.loss)).toBeLessThan(RTOL);
    for (const [name, want] of Object.entries(f.grads)) expectClose(`grad ${name}`, { shape: want.shape, data: g.grads[name] }, want, RTOL);
    // The attention weights: α of every target step over the source, zero past each row's length.
    const forward = modelForward(trainModel(config), params, batch, { training: false, seed: 0 });
    const alpha = forward.caches.map((c) => (c as { alpha?: Float64Array } | null)?.alpha).find((a) => a !== undefined)!;
    expectClose('alpha', { shape: f.alpha.shape, data: alpha }, f.alpha, RTOL);
    if (meta.optimizer) {
      const run = new CpuTrainer(config, Object.fromEntries(Object.entries(f.params).map(([k, v]) => [k, f64(v)])));
      const opt = resolveOptimizer(meta.optimizer);
      const losses: number[] = [];
      for (let s = 0; s < meta.steps!; s++) losses.push((await run.step(batch, opt, { readLoss: true, carry: false })).loss!);
      expectClose('losses', { shape: [losses.length], data: Float64Array.from(losses) }, { shape: [losses.length], data: f.losses! }, RTOL);
      for (const [name, want] of Object.entries(f.final!)) {
        const p0 = f.params[name].data;
        const moved = (d: ArrayLike<number>) => ({ shape: want.shape, data: Float64Array.from(d, (v, i) => v - p0[i]) });
        expectClose(`update of ${name}`, moved(run.params[name]), moved(want.data), 1e-7);
      }
    }
  });
});

describe('encoder–decoder reference vs finite differences', () => {
  const tiny = (over: Partial<Seq2SeqConfigInput>, placement: 'after' | 'before', score: 'dot' | 'general' | 'concat'): Seq2SeqConfigInput => ({
    source_embedding: { num_embeddings: 5, embedding_dim: 2 },
    target_embedding: { num_embeddings: 4, embedding_dim: 2 },
    encoder: { mode: 'LSTM', input_size: 2, hidden_size: 2, num_layers: 2, dropout: 0.3, bidirectional: true },
    decoder: { mode: 'LSTM', input_size: placement === 'before' ? 6 : 2, hidden_size: 4, num_layers: 2, dropout: 0.4 },
    bridge: 'copy',
    attention: { score, placement, ...(score === 'concat' ? { attention_size: 3 } : {}) },
    ...over,
  });
  it.each([
    ['after, dot, copy, dropout in both stacks', tiny({}, 'after', 'dot')],
    ['before, concat, copy, dropout in both stacks', tiny({}, 'before', 'concat')],
    [
      'before, general, GRU, zeros',
      tiny(
        { encoder: { mode: 'GRU', input_size: 2, hidden_size: 3 }, decoder: { mode: 'GRU', input_size: 5, hidden_size: 2 }, bridge: 'zeros' },
        'before',
        'general',
      ),
    ],
  ] as const)('%s', (_name, input) => {
    const config = resolveSeq2SeqConfig(input);
    const next = seededUniform(9);
    const params = Object.fromEntries(
      trainModel(config).specs.map((s) => [s.name, Float64Array.from({ length: s.shape.reduce((a, b) => a * b, 1) }, () => 2.5 * (next() - 0.5))]),
    );
    const [S, T, B] = [4, 3, 3];
    const ids = (n: number, V: number) => ({ shape: [n, B], data: Int32Array.from({ length: n * B }, () => Math.floor(next() * V)) });
    const batch = prepareBatch(config, {
      source: ids(S, 5),
      target_in: ids(T, 4),
      target: ids(T, 4),
      source_lengths: [4, 2, 1],
    });
    // Training mode: dropout on, its masks fixed by the seed, so the loss is a smooth function. The
    // bound is 1e-5, not the 1e-6 of the other models: some tensors here get gradients of ~1e-5 (the
    // reverse direction of a row one step long), where ε = 1e-5's rounding (≈1e-11 per element) shows
    // at a few 1e-6. The PyTorch fixtures above check the same paths at 1e-9.
    const report = gradcheck(config, params, batch, { training: true, seed: 5 });
    expect(report.maxRelativeError, JSON.stringify(report.tensors)).toBeLessThan(1e-5);
  });
});
