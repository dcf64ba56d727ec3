/**
 * The encoder–decoder's cases of the GPU suite (training.ts runs them; Node and Chromium alike):
 *  - every PyTorch fixture with attention after the decoder (test/fixtures/seq2seq), through
 *    createTrainer on WebGPU — the deepest and the trajectory with every backward strategy that fits
 *    both recurrent modules, the others with the fastest that fits (persistent) —: the loss,
 *    every parameter's gradient (‖a−b‖/‖b‖ ≤ 1e-4 per tensor), and for trajectories each Adam step's loss
 *    and the parameters' movement p − p0 (≤ 1e-3);
 *  - against the float64 CPU trainer: dropout in both stacks (the encoder's and the decoder's masks are
 *    different streams), a bidirectional encoder over source lengths, concat's score; predict and
 *    evaluate over batches of other shapes (S ≠ T); a second step of one shape makes no GPU objects.
 */
import { deviceDiagnostics } from '../../src/diagnostics.js';
import { BACKWARD_STRATEGIES, type BackwardStrategy, backwardUnfit } from '../../src/gpu/ops/backward.js';
import { seededUniform } from '../../src/random.js';
import type { Tensor } from '../../src/tensor.js';
import type { TrainBatch } from '../../src/train/batch.js';
import { type Seq2SeqConfigInput, resolveSeq2SeqConfig } from '../../src/train/seq2seq-config.js';
import { type CreateTrainerOptions, type Trainer, createTrainer } from '../../src/train/trainer.js';
import type { Seq2SeqConfig } from '../../src/train/seq2seq-config.js';
import { expectClose, expectThat, relativeError } from '../support/compare.js';
import type { LoadBytes } from '../support/fixtures.js';
import { type Seq2SeqCase, loadSeq2SeqFixture } from '../support/seq2seq-fixtures.js';
import type { GpuCase } from './gpu-agreement.js';

type Options = CreateTrainerOptions & { model: Seq2SeqConfigInput };

async function withTrainers<R>(options: Options[], body: (trainers: Array<Trainer<Seq2SeqConfig>>) => Promise<R>): Promise<R> {
  const trainers: Array<Trainer<Seq2SeqConfig>> = [];
  try {
    for (const o of options) trainers.push(await createTrainer(o));
    return await body(trainers);
  } finally {
    for (const t of trainers) await t.destroy();
  }
}

const vector = (data: ArrayLike<number>): Tensor => ({ shape: [data.length], data: Float64Array.from(data) });

function fixtureCase(load: LoadBytes, meta: Seq2SeqCase, strategy: BackwardStrategy): GpuCase {
  return {
    name: `seq2seq ${meta.name} [${strategy}]`,
    run: async () => {
      const f = await loadSeq2SeqFixture(load, meta);
      const optimizer = meta.optimizer ?? { name: 'sgd' as const, lr: 0.1 };
      return withTrainers([{ model: meta.model, weights: f.params, optimizer, strategy }], async ([trainer]) => {
        const g = await trainer.gradients(f.batch);
        expectThat(trainer.diagnostics()?.strategy === strategy, `strategy ${trainer.diagnostics()?.strategy}`);
        expectThat(Math.abs(g.loss - f.loss) <= 1e-5 * Math.abs(f.loss), () => `loss ${g.loss} vs PyTorch ${f.loss}`);
        let worst = 0;
        for (const [name, want] of Object.entries(f.grads)) worst = Math.max(worst, expectClose(`grad ${name}`, g.grads[name], want, 1e-4));
        let note = `loss and ${Object.keys(f.grads).length} gradients ≤ ${worst.toExponential(1)}`;
        if (meta.steps) {
          const losses: number[] = [];
          for (let s = 0; s < meta.steps; s++) losses.push((await trainer.trainStep(f.batch, { readLoss: true })).loss!);
          expectClose('losses', vector(losses), vector(f.losses!), 1e-4);
          const final = await trainer.parameters();
          let moved = 0;
          for (const [name, want] of Object.entries(f.final!)) {
            const p0 = f.params[name].data;
            const delta = (t: Tensor) => ({ shape: t.shape, data: Float64Array.from(t.data, (v, i) => v - p0[i]) });
            moved = Math.max(moved, expectClose(`update of ${name}`, delta(final[name]), delta(want), 1e-3));
          }
          note += `; ${meta.steps} Adam steps: p − p0 ≤ ${moved.toExponential(1)}`;
        }
        return note;
      });
    },
  };
}

function ids(next: () => number, n: number, below: number): Int32Array {
  return Int32Array.from({ length: n }, () => Math.floor(next() * below));
}

/** A random batch: S source and T target steps, B rows, source lengths in [1, S] (the first row full). */
function batchOf(seed: number, S: number, T: number, B: number, V: number): TrainBatch {
  const next = seededUniform(seed);
  return {
    source: { shape: [S, B], data: ids(next, S * B, V) },
    source_lengths: Int32Array.from({ length: B }, (_, b) => (b === 0 ? S : 1 + Math.floor(next() * S))),
    target_in: { shape: [T, B], data: ids(next, T * B, V) },
    target: { shape: [T, B], data: ids(next, T * B, V) },
  };
}

// Two stacked layers each side with dropout between them, a bidirectional encoder and the copy bridge
// (the decoder twice as wide), concat's score; attention after the decoder (a combine layer), or before
// it (the decoder reads [e; c]: E + H_e inputs).
const AFTER: Seq2SeqConfigInput = {
  source_embedding: { num_embeddings: 9, embedding_dim: 5 },
  target_embedding: { num_embeddings: 7, embedding_dim: 4 },
  encoder: { mode: 'LSTM', input_size: 5, hidden_size: 3, num_layers: 2, bidirectional: true, dropout: 0.3 },
  decoder: { mode: 'LSTM', input_size: 4, hidden_size: 6, num_layers: 2, dropout: 0.3 },
  bridge: 'copy',
  attention: { score: 'concat', attention_size: 5, combine_size: 4 },
};
const BEFORE: Seq2SeqConfigInput = {
  ...AFTER,
  decoder: { ...AFTER.decoder, input_size: 10 },
  attention: { score: 'concat', placement: 'before', attention_size: 5 },
};

function referenceCases(model: Seq2SeqConfigInput, beams: readonly number[]): GpuCase[] {
  const where = model.attention.placement ?? 'after';
  return [
    {
      name: `seq2seq (attention ${where}): dropout in the encoder and the decoder, between layers and on h_{t−1}, draws the CPU reference's masks (bidirectional, source lengths, concat)`,
      run: async () => {
        const batch = batchOf(3, 7, 5, 3, 7);
        // Recurrent dropout in the encoder, and in the decoder where it is an ordinary recurrent layer ("after").
        const dropped = {
          ...model,
          encoder: { ...model.encoder, recurrent_dropout: 0.3 },
          decoder: where === 'after' ? { ...model.decoder, recurrent_dropout: 0.3 } : model.decoder,
        };
        const plain = { ...model, encoder: { ...model.encoder, dropout: 0 }, decoder: { ...model.decoder, dropout: 0 } };
        return withTrainers(
          [
            { model: dropped, seed: 4, init: { seed: 1 } },
            { model: dropped, seed: 4, init: { seed: 1 }, backend: 'cpu' },
            { model: plain, seed: 4, init: { seed: 1 }, backend: 'cpu' },
          ],
          async ([gpu, cpu, noDropout]) => {
            const [g, c, p] = [await gpu.gradients(batch), await cpu.gradients(batch), await noDropout.gradients(batch)];
            expectThat(Math.abs(g.loss - c.loss) <= 1e-5 * c.loss, `loss ${g.loss} vs CPU ${c.loss}`);
            let worst = 0;
            for (const [name, want] of Object.entries(c.grads)) worst = Math.max(worst, expectClose(`grad ${name}`, g.grads[name], want, 1e-4));
            // Both stacks drop: the second layer's input weights see other gradients than without dropout.
            const moved = ['encoder.weight_ih_l1', 'decoder.weight_ih_l1'].map((name) => relativeError(c.grads[name].data, p.grads[name].data));
            expectThat(
              moved.every((m) => m > 0.05),
              `dropout changed the gradients of the second layers by only ${moved}`,
            );
            return `loss ${g.loss.toFixed(4)} (no dropout ${p.loss.toFixed(4)}); gradients ≤ ${worst.toExponential(1)}; dropout moved them ${moved.map((m) => m.toFixed(2))}`;
          },
        );
      },
    },
    {
      name: `seq2seq (attention ${where}): training steps, predict and evaluate give the CPU trainer's numbers over batches of other shapes; a second step makes no GPU objects`,
      run: async () => {
        const quiet = { ...model, encoder: { ...model.encoder, dropout: 0 }, decoder: { ...model.decoder, dropout: 0 } };
        const optimizer = { name: 'adam' as const, lr: 0.01 };
        const batches = [batchOf(5, 6, 4, 3, 7), batchOf(6, 3, 8, 2, 7), batchOf(7, 6, 4, 3, 7)];
        return withTrainers(
          [
            { model: quiet, optimizer, init: { seed: 2 } },
            { model: quiet, optimizer, init: { seed: 2 }, backend: 'cpu' },
          ],
          async ([gpu, cpu]) => {
            const losses: Array<[number, number]> = [];
            let counts = '';
            for (const [i, batch] of batches.entries()) {
              const before = await deviceDiagnostics();
              const [a, b] = [await gpu.trainStep(batch, { readLoss: true }), await cpu.trainStep(batch, { readLoss: true })];
              losses.push([a.loss!, b.loss!]);
              if (i === 2) {
                // The first batch's shape again: its plan is reused.
                const after = await deviceDiagnostics();
                const c = (d: typeof before) => `${d.buffers.created} buffers, ${d.pipelines} pipelines, ${d.bindGroupsCreated} bind groups`;
                expectThat(c(after) === c(before), () => `a step of a known shape: ${c(before)} before, ${c(after)} after`);
                counts = c(after);
              }
            }
            expectClose('losses', vector(losses.map((l) => l[0])), vector(losses.map((l) => l[1])), 1e-4);
            const probe = batchOf(8, 5, 3, 4, 7);
            expectClose(
              'predict',
              await gpu.predict({ source: probe.source, source_lengths: probe.source_lengths, target_in: probe.target_in }),
              await cpu.predict({ source: probe.source, source_lengths: probe.source_lengths, target_in: probe.target_in }),
              1e-4,
            );
            const [e, f] = [await gpu.evaluate(probe), await cpu.evaluate(probe)];
            expectThat(Math.abs(e - f) <= 1e-5 * f, `evaluate ${e} vs CPU ${f}`);
            return `3 Adam steps over (S, T, B) = (6, 4, 3), (3, 8, 2), (6, 4, 3); ${counts}`;
          },
        );
      },
    },
    {
      name: `seq2seq (attention ${where}): greedy and beam-search decoding on the GPU give the CPU reference's tokens, scores and attention`,
      run: async () => {
        // Two LSTM layers in the decoder (their h and c follow the hypotheses), the copy bridge, source lengths.
        const quiet = { ...model, encoder: { ...model.encoder, dropout: 0 }, decoder: { ...model.decoder, dropout: 0 } };
        const [BOS, EOS] = [0, 1];
        return withTrainers([{ model: quiet, init: { scheme: 'kaiming', seed: 5 } }], async ([first]) => {
          // Random weights with eos made rarer (a random model's best is otherwise eos at once).
          const weights = await first.parameters();
          const bias = Float64Array.from(weights['head.bias'].data);
          bias[EOS] -= 2;
          const loaded = { ...weights, 'head.bias': { shape: [bias.length], data: bias } };
          return withTrainers(
            [
              { model: quiet, weights: loaded },
              { model: quiet, weights: loaded, backend: 'cpu' },
            ],
            async ([gpu, cpu]) => {
              const next = seededUniform(41);
              const S = 6;
              const B = 5;
              const source = { shape: [S, B], data: ids(next, S * B, 9) };
              const sourceLengths = [6, 3, 1, 5, 6];
              const notes: string[] = [];
              for (const beam of beams) {
                const o = { bos: BOS, eos: EOS, maxLength: 7, beam, sourceLengths };
                const [g, c] = [await gpu.decode(source, o), await cpu.decode(source, o)];
                expectThat(
                  Array.from(g.tokens.data).join() === Array.from(c.tokens.data).join(),
                  () => `beam ${beam}: tokens ${g.tokens.data} vs CPU ${c.tokens.data}`,
                );
                expectThat(Array.from(g.lengths).join() === Array.from(c.lengths).join(), () => `beam ${beam}: lengths ${g.lengths} vs CPU ${c.lengths}`);
                expectClose(`beam ${beam}: score`, vector(g.score), vector(c.score), 1e-4);
                expectClose(`beam ${beam}: attention`, g.attention, c.attention, 1e-4);
                notes.push(`beam ${beam}: lengths ${Array.from(g.lengths).join(' ')}`);
              }
              return notes.join('; ');
            },
          );
        });
      },
    },
  ];
}

/** Every encoder–decoder case: `cases` from the seq2seq manifest (test/support/seq2seq-fixtures.ts). */
export function seq2seqSuiteCases(load: LoadBytes, cases: readonly Seq2SeqCase[]): GpuCase[] {
  // Every strategy on the deepest model with attention after the decoder (two layers, both directions)
  // and that trajectory; the others with the one 'auto' picks (the strategies themselves are checked
  // case by case in training.ts). A decoder with attention before it runs its own kernel whatever the
  // strategy (it names the encoder's).
  const after = (c: Seq2SeqCase) => (c.model.attention.placement ?? 'after') === 'after';
  const everyStrategy = (c: Seq2SeqCase) => after(c) && (c.name.includes('_2l_') || c.steps !== undefined);
  const fixtures = cases.flatMap((c) => {
    const config = resolveSeq2SeqConfig(c.model);
    const fitting = BACKWARD_STRATEGIES.filter((s) => !backwardUnfit(s, config.encoder) && (!after(c) || !backwardUnfit(s, config.decoder)));
    return (everyStrategy(c) ? fitting : fitting.slice(-1)).map((s) => fixtureCase(load, c, s));
  });
  return [...fixtures, ...referenceCases(AFTER, [1, 3, 16]), ...referenceCases(BEFORE, [1, 4])];
}
