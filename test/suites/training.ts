/**
 * The training cases of the GPU suite, run in Node (Dawn) and in headless Chromium (there each fixture
 * on one of its strategies, in turn: test/browser/selection.ts):
 *  - every PyTorch training fixture through the public API (createTrainer on WebGPU), with every
 *    backward strategy that fits the model (src/gpu/ops/backward.ts): the loss and
 *    the gradient of every parameter (‖a−b‖/‖b‖ ≤ 1e-4 per tensor), dL/dh0 and dL/dc0, and for
 *    trajectories each step's loss and the parameters' movement p − p0 after the steps (≤ 1e-3);
 *  - against the float64 CPU trainer on the same weights: dropout masks (same counter-based draws),
 *    gradient flow, sampling (same tokens), the trained module in the inference engine, and training
 *    steps issued without awaiting (run in order: the same parameters as awaited ones);
 *  - steady state: a second step of the same shape creates no GPU objects; a rejected batch leaves the
 *    trainer as it was;
 *  - the encoder–decoder's cases (seq2seq.ts).
 */
import { RnnError } from '../../src/errors.js';
import { deviceDiagnostics } from '../../src/diagnostics.js';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, requestDevice } from '../../src/gpu/device.js';
import { seededUniform } from '../../src/random.js';
import type { Tensor } from '../../src/tensor.js';
import type { TrainBatch } from '../../src/train/batch.js';
import { type ModelConfigInput, resolveModelConfig } from '../../src/train/config.js';
import { BACKWARD_STRATEGIES, type BackwardStrategy, backwardUnfit } from '../../src/gpu/ops/backward.js';
import { type CreateTrainerOptions, type Trainer, createTrainer } from '../../src/train/trainer.js';
import { expectClose, expectThat } from '../support/compare.js';
import type { LoadBytes } from '../support/fixtures.js';
import { type TrainingCase, type TrainingManifests, loadTrainingFixture } from '../support/training-fixtures.js';
import type { GpuCase } from './gpu-agreement.js';
import { seq2seqSuiteCases } from './seq2seq.js';

function floats(next: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (2 * next() - 1) * scale);
}

function ints(next: () => number, n: number, below: number): Int32Array {
  return Int32Array.from({ length: n }, () => Math.floor(next() * below));
}

/** Runs `body` with trainers made from `options`, destroying them whatever happens. */
async function withTrainers<R>(options: Array<CreateTrainerOptions & { model: ModelConfigInput }>, body: (trainers: Trainer[]) => Promise<R>): Promise<R> {
  const trainers: Trainer[] = [];
  try {
    for (const o of options) trainers.push(await createTrainer(o));
    return await body(trainers);
  } finally {
    for (const t of trainers) await t.destroy();
  }
}

const vector = (data: ArrayLike<number>): Tensor => ({ shape: [data.length], data: Float64Array.from(data) });

function fixtureCase(load: LoadBytes, meta: TrainingCase, strategy: BackwardStrategy): GpuCase {
  return {
    name: `training ${meta.name} [${strategy}]`,
    run: async () => {
      const f = await loadTrainingFixture(load, meta);
      return withTrainers([{ model: meta.model, weights: f.params, optimizer: meta.optimizer ?? { name: 'sgd', lr: 0.1 }, strategy }], async ([trainer]) => {
        expectThat(trainer.diagnostics()?.strategy === strategy, `strategy ${trainer.diagnostics()?.strategy}`);
        const g = await trainer.gradients(f.batch);
        expectThat(Math.abs(g.loss - f.loss) <= 1e-5 * Math.abs(f.loss), () => `loss ${g.loss} vs PyTorch ${f.loss}`);
        let worst = 0;
        for (const [name, want] of Object.entries(f.grads)) worst = Math.max(worst, expectClose(`grad ${name}`, g.grads[name], want, 1e-4));
        if (f.gradH0) worst = Math.max(worst, expectClose('grad h0', g.h0, f.gradH0, 1e-4));
        if (f.gradC0) worst = Math.max(worst, expectClose('grad c0', g.c0, f.gradC0, 1e-4));
        let note = `gradients ≤ ${worst.toExponential(1)}`;
        if (meta.optimizer) {
          const losses: number[] = [];
          for (let s = 0; s < meta.steps!; s++) losses.push((await trainer.trainStep(f.batch, { readLoss: true })).loss!);
          expectClose('losses', vector(losses), vector(f.losses!), 1e-4);
          const final = await trainer.parameters();
          let moved = 0;
          for (const [name, want] of Object.entries(f.final!)) {
            const p0 = f.params[name].data;
            const delta = (t: Tensor) => ({ shape: t.shape, data: Float64Array.from(t.data, (v, i) => v - p0[i]) });
            moved = Math.max(moved, expectClose(`update of ${name}`, delta(final[name]), delta(want), 1e-3));
          }
          note += `; ${meta.steps} steps of ${meta.optimizer.name}: p − p0 ≤ ${moved.toExponential(1)}`;
        }
        return note;
      });
    },
  };
}

/**
 * Runs `body` on a device of its own whose context is told it is the other kind of adapter (software ↔
 * GPU), so the kernels meant for the other kind run here; a WebGPU validation error on it is reported
 * in place of whatever the body threw, and the device is destroyed whatever happens.
 */
async function onOtherAdapterKind<R>(body: (device: GPUDevice, ctx: GpuContext) => Promise<R>): Promise<R> {
  const own = await requestDevice();
  const ctx = await contextFor(own);
  ctx.isSoftwareAdapter = !ctx.isSoftwareAdapter;
  own.pushErrorScope('validation');
  try {
    return await body(own, ctx);
  } finally {
    const error = await own.popErrorScope();
    own.destroy();
    // biome-ignore lint/correctness/noUnsafeFinally: a GPU validation error explains whatever the body threw, so it is the one reported
    if (error) throw new Error(`WebGPU validation error: ${error.message}`);
  }
}

/**
 * Recurrent (variational) dropout in every recurrent kernel — the forward's per-step and persistent
 * (software: W_hh cached or not), the backward's per-step, fused and persistent, on this device and on
 * one told it is the other kind of adapter — against the float64 CPU trainer on the same weights and
 * seed (same masks): the loss, every parameter's gradient, dL/dh0 and dL/dc0. And the mask does
 * something: the loss differs from the same model's without it, and evaluate (no dropout) equals it.
 */
function recurrentDropoutCase(): GpuCase {
  const models: Array<[string, ModelConfigInput, { T: number; B: number; lengths?: number[] }]> = [
    [
      'LSTM 2 layers bidirectional proj 3, dropout 0.3, lengths',
      {
        rnn: { mode: 'LSTM', input_size: 3, hidden_size: 5, proj_size: 3, num_layers: 2, bidirectional: true, dropout: 0.3, recurrent_dropout: 0.4 },
        head: { out_features: 2 },
        loss: 'mse',
      },
      { T: 5, B: 3, lengths: [5, 2, 4] },
    ],
    [
      'GRU bidirectional, lengths',
      { rnn: { mode: 'GRU', input_size: 4, hidden_size: 9, bidirectional: true, recurrent_dropout: 0.5 }, head: { out_features: 3 }, loss: 'mse' },
      { T: 4, B: 3, lengths: [1, 4, 3] },
    ],
    [
      'RNN_TANH 2 layers',
      { rnn: { mode: 'RNN_TANH', input_size: 2, hidden_size: 4, num_layers: 2, recurrent_dropout: 0.3 }, head: { out_features: 2 }, loss: 'mse' },
      { T: 6, B: 2 },
    ],
    [
      'LSTM H 17, one row',
      { rnn: { mode: 'LSTM', input_size: 3, hidden_size: 17, recurrent_dropout: 0.25 }, head: { out_features: 2 }, loss: 'mse' },
      { T: 3, B: 1 },
    ],
    // From 8 rows a software adapter's per-step forward takes the wide step kernel (h_{t−1} four k per
    // load with H 12, one k at a time with H 9; blocks of 8 rows, then of 32).
    [
      'LSTM H 12, 9 rows, lengths',
      { rnn: { mode: 'LSTM', input_size: 3, hidden_size: 12, recurrent_dropout: 0.3 }, head: { out_features: 2 }, loss: 'mse' },
      { T: 4, B: 9, lengths: [4, 1, 3, 4, 2, 4, 4, 3, 1] },
    ],
    [
      'GRU H 9, 17 rows',
      { rnn: { mode: 'GRU', input_size: 2, hidden_size: 9, recurrent_dropout: 0.4 }, head: { out_features: 2 }, loss: 'mse' },
      { T: 3, B: 17 },
    ],
  ];
  return {
    name: "training: recurrent dropout in every recurrent kernel gives the CPU reference's gradients (its masks), and drops",
    run: () =>
      onOtherAdapterKind(async (own) => {
        const lines: string[] = [];
        for (const [name, model, shape] of models) {
          const rnn = resolveModelConfig(model).rnn;
          const { T, B } = shape;
          const D = rnn.bidirectional ? 2 : 1;
          const LD = rnn.num_layers * D;
          const Hout = rnn.proj_size || rnn.hidden_size;
          const next = seededUniform(31);
          const batch: TrainBatch = {
            input: { shape: [T, B, rnn.input_size], data: floats(next, T * B * rnn.input_size) },
            target: { shape: [T, B, model.head!.out_features], data: floats(next, T * B * model.head!.out_features) },
            ...(shape.lengths ? { lengths: { shape: [B], data: Int32Array.from(shape.lengths) } } : {}),
            h0: { shape: [LD, B, Hout], data: floats(next, LD * B * Hout, 0.5) },
            ...(rnn.mode === 'LSTM' ? { c0: { shape: [LD, B, rnn.hidden_size], data: floats(next, LD * B * rnn.hidden_size, 0.5) } } : {}),
          };
          const plain: ModelConfigInput = { ...model, rnn: { ...model.rnn, recurrent_dropout: 0 } };
          const reference = await withTrainers(
            [
              { model, seed: 3, backend: 'cpu' },
              { model: plain, seed: 3, backend: 'cpu' },
            ],
            async ([cpu, cpuPlain]) => {
              const [c, p] = [await cpu.gradients(batch), await cpuPlain.gradients(batch)];
              expectThat(Math.abs(c.loss - p.loss) > 1e-4, `${name}: recurrent dropout changed the loss by only ${Math.abs(c.loss - p.loss)}`);
              const [evaluated, plainEvaluated] = [await cpu.evaluate(batch), await cpuPlain.evaluate(batch)];
              expectThat(evaluated === plainEvaluated, `${name}: evaluate ${evaluated} drops (without recurrent dropout: ${plainEvaluated})`);
              return c;
            },
          );
          let worst = 0;
          for (const device of [undefined, own]) {
            for (const strategy of BACKWARD_STRATEGIES.filter((s) => !backwardUnfit(s, rnn, B))) {
              await withTrainers([{ model, seed: 3, strategy, device }], async ([gpu]) => {
                const g = await gpu.gradients(batch);
                const where = `${name} [${strategy}${device ? ', other adapter kind' : ''}]`;
                expectThat(Math.abs(g.loss - reference.loss) <= 1e-5 * Math.abs(reference.loss), () => `${where}: loss ${g.loss} vs CPU ${reference.loss}`);
                for (const [p, want] of Object.entries(reference.grads)) worst = Math.max(worst, expectClose(`${where} grad ${p}`, g.grads[p], want, 1e-4));
                worst = Math.max(worst, expectClose(`${where} grad h0`, g.h0!, reference.h0!, 1e-4));
                if (rnn.mode === 'LSTM') worst = Math.max(worst, expectClose(`${where} grad c0`, g.c0!, reference.c0!, 1e-4));
              });
            }
          }
          lines.push(`${name}: worst ${worst.toExponential(1)}`);
        }
        return lines.join('; ');
      }),
  };
}

/** Cases against the CPU trainer on the same model and weights. */
function referenceCases(): GpuCase[] {
  const lm: ModelConfigInput = {
    embedding: { num_embeddings: 11, embedding_dim: 5 },
    rnn: { mode: 'GRU', input_size: 5, hidden_size: 9, num_layers: 2, dropout: 0.3 },
    head: { out_features: 11 },
    loss: 'cross_entropy',
  };
  const lmBatch = (seed: number, T: number, B: number): TrainBatch => {
    const next = seededUniform(seed);
    return { tokens: { shape: [T, B], data: ints(next, T * B, 11) }, target: { shape: [T, B], data: ints(next, T * B, 11) } };
  };
  return [
    recurrentDropoutCase(),
    {
      name: "training: dropout between layers draws the CPU reference's masks, and drops",
      run: async () => {
        const model: ModelConfigInput = {
          rnn: { mode: 'LSTM', input_size: 3, hidden_size: 6, num_layers: 3, dropout: 0.4 },
          head: { out_features: 2 },
          loss: 'mse',
        };
        const next = seededUniform(5);
        const batch: TrainBatch = { input: { shape: [5, 3, 3], data: floats(next, 45) }, target: { shape: [5, 3, 2], data: floats(next, 30) } };
        const noDropout = { ...model, rnn: { ...model.rnn, dropout: 0 } };
        return withTrainers(
          [
            { model, seed: 9 },
            { model, seed: 9, backend: 'cpu' },
            { model: noDropout, seed: 9, backend: 'cpu' },
          ],
          async ([gpu, cpu, plain]) => {
            const [g, c, p] = [await gpu.gradients(batch), await cpu.gradients(batch), await plain.gradients(batch)];
            for (const [name, want] of Object.entries(c.grads)) expectClose(`grad ${name}`, g.grads[name], want, 1e-4);
            expectThat(Math.abs(c.loss - p.loss) > 1e-3, `dropout 0.4 changed the loss by only ${Math.abs(c.loss - p.loss)}`);
            return `loss ${g.loss.toFixed(4)} (no dropout: ${p.loss.toFixed(4)})`;
          },
        );
      },
    },
    {
      name: "training: gradient flow ‖∂L/∂h_t‖ per layer and step is the CPU reference's",
      run: async () => {
        const model: ModelConfigInput = {
          rnn: { mode: 'LSTM', input_size: 4, hidden_size: 7, num_layers: 2, bidirectional: true },
          head: { out_features: 1, on: 'h_n' },
          loss: 'mse',
        };
        const next = seededUniform(21);
        const batch: TrainBatch = { input: { shape: [17, 3, 4], data: floats(next, 17 * 12) }, target: { shape: [3, 1], data: floats(next, 3) } };
        return withTrainers([{ model }, { model, backend: 'cpu' }], async ([gpu, cpu]) => {
          const [g, c] = [await gpu.gradientFlow(batch), await cpu.gradientFlow(batch)];
          expectThat(g.flow.length === 2 && g.flow.every((f) => f.length === 17), `flow shape ${g.flow.map((f) => f.length)}`);
          for (let l = 0; l < 2; l++) expectClose(`flow of layer ${l}`, vector(g.flow[l]), vector(c.flow[l]), 1e-4);
          return `${g.flow.length} layers × 17 steps`;
        });
      },
    },
    {
      name: "training: sampling on the GPU draws the CPU reference's tokens (greedy, τ = 1, top-k)",
      run: async () => {
        const model = { ...lm, rnn: { ...lm.rnn, dropout: 0 } };
        // Kaiming's larger weights make the logits depend on the input, so a draw from the wrong
        // position or state shows (with PyTorch's small default weights every position looks alike).
        const init = { scheme: 'kaiming' as const, seed: 4 };
        return withTrainers(
          [
            { model, init },
            { model, init, backend: 'cpu' },
          ],
          async ([gpu, cpu]) => {
            const prompt = [3, 1, 4, 1, 5];
            for (const o of [{ temperature: 0 }, { temperature: 1, seed: 7 }, { temperature: 0.8, topK: 3, seed: 8 }]) {
              const [a, b] = [await gpu.sample(prompt, { ...o, maxTokens: 17 }), await cpu.sample(prompt, { ...o, maxTokens: 17 })];
              expectThat(a.join() === b.join(), () => `${JSON.stringify(o)}: WebGPU ${a} vs CPU ${b}`);
            }
            // The prompt matters: its last token alone, or the first four, continue differently.
            const greedy = async (p: number[]) => (await cpu.sample(p, { temperature: 0, maxTokens: 17 })).join();
            expectThat(
              new Set([await greedy(prompt), await greedy([5]), await greedy([3, 1, 4, 1])]).size === 3,
              'the prompt does not change the continuation',
            );
            return '3 settings × 17 tokens';
          },
        );
      },
    },
    {
      name: "training: the trained recurrent module runs in the inference engine and gives the CPU's outputs",
      run: async () => {
        const model: ModelConfigInput = { rnn: { mode: 'LSTM', input_size: 3, hidden_size: 5, proj_size: 2, bidirectional: true }, loss: 'mse' };
        const next = seededUniform(17);
        const batch: TrainBatch = { input: { shape: [4, 2, 3], data: floats(next, 24) }, target: { shape: [4, 2, 4], data: floats(next, 32) } };
        return withTrainers([{ model, optimizer: { name: 'sgd', lr: 0.5 } }], async ([trainer]) => {
          for (let s = 0; s < 3; s++) await trainer.trainStep(batch);
          const weights = await trainer.parameters();
          return withTrainers([{ model, weights, backend: 'cpu' }], async ([reference]) => {
            const [rnn, cpuRnn] = [await trainer.toRnn(), await reference.toRnn()];
            try {
              expectClose('output', (await rnn.forward(batch.input!)).output, (await cpuRnn.forward(batch.input!)).output, 1e-4);
            } finally {
              await rnn.destroy();
              await cpuRnn.destroy();
            }
            return 'after 3 SGD steps';
          });
        });
      },
    },
    {
      name: "training: predict gives the CPU trainer's outputs (batch_first logits, a head on h_n), and carries the state",
      run: async () => {
        const bf: ModelConfigInput = { ...lm, rnn: { ...lm.rnn, batch_first: true, dropout: 0 } };
        const tokens = { shape: [3, 7], data: Int32Array.from({ length: 21 }, (_, i) => (i * 5) % 11) };
        const classifier: ModelConfigInput = {
          rnn: { mode: 'LSTM', input_size: 2, hidden_size: 5, bidirectional: true },
          head: { out_features: 3, on: 'h_n' },
          loss: 'cross_entropy',
        };
        const next = seededUniform(31);
        const input = { shape: [6, 4, 2], data: floats(next, 48) };
        return withTrainers(
          [{ model: bf, seed: 3 }, { model: bf, seed: 3, backend: 'cpu' }, { model: classifier }, { model: classifier, backend: 'cpu' }],
          async ([g, c, gc, cc]) => {
            const [a, b] = [await g.predict({ tokens }), await c.predict({ tokens })];
            expectThat(a.shape.join() === '3,7,11', `logits shape ${a.shape}`);
            expectClose('logits', a, b, 1e-4);
            // Two halves with the state carried = the whole sequence at once.
            const half = (from: number) => ({
              shape: [3, 3],
              data: Int32Array.from({ length: 9 }, (_, i) => tokens.data[Math.floor(i / 3) * 7 + from + (i % 3)]),
            });
            await g.predict({ tokens: half(0) });
            const second = await g.predict({ tokens: half(3) }, { carryState: true });
            const whole = Float32Array.from(
              { length: 3 * 3 * 11 },
              (_, i) => b.data[Math.floor(i / 33) * 77 + (3 + Math.floor((i % 33) / 11)) * 11 + (i % 11)],
            );
            expectClose('carried logits', second, { shape: [3, 3, 11], data: whole }, 1e-4);
            const [p, q] = [await gc.predict({ input }), await cc.predict({ input })];
            expectThat(p.shape.join() === '4,3', `classifier output shape ${p.shape}`);
            expectClose('classifier logits', p, q, 1e-4);
            const error = await g.predict({ tokens, target: tokens } as never).then(
              () => undefined,
              (e: unknown) => e,
            );
            expectThat(error instanceof RnnError && /predict takes none/.test(error.message), `a target: ${String(error)}`);
            return 'logits [3, 7, 11]; h_n head [4, 3]';
          },
        );
      },
    },
    {
      name: 'training: predict and evaluate never move the training carry; each carry keeps its batch size (GPU = CPU)',
      run: async () => {
        // The new user's sequence: carried steps at one batch size, a predict at another (a progress
        // display), an evaluate, then a carried step. The last step must be the one a run without the
        // predict and evaluate takes.
        const model = { ...lm, rnn: { ...lm.rnn, dropout: 0 } };
        const optimizer = { name: 'adam' as const, lr: 0.02 };
        const windows = [1, 2, 3, 4, 5].map((k) => lmBatch(40 + k, 5, 8));
        const probe = { tokens: { shape: [3, 1], data: Int32Array.of(1, 2, 3) } };
        const options = (backend: 'webgpu' | 'cpu') => ({ model, optimizer, seed: 6, backend });
        return withTrainers([options('webgpu'), options('webgpu'), options('cpu'), options('cpu')], async ([g, gPlain, c, cPlain]) => {
          const losses: number[][] = [];
          for (const [trainer, interrupted] of [
            [g, true],
            [gPlain, false],
            [c, true],
            [cPlain, false],
          ] as const) {
            const run: number[] = [];
            for (const [k, w] of windows.entries()) {
              if (interrupted && k === 4) {
                await trainer.predict(probe);
                await trainer.evaluate(lmBatch(50, 5, 3));
              }
              run.push((await trainer.trainStep(w, { readLoss: true, carryState: k > 0 })).loss!);
            }
            losses.push(run);
          }
          const [gl, gp, cl, cp] = losses;
          expectThat(gl.every(Number.isFinite) && cl.every(Number.isFinite), () => `losses WebGPU ${gl}, CPU ${cl}`);
          expectThat(gl[4] === gp[4], () => `WebGPU: step 5 after a predict ${gl[4]} vs without ${gp[4]}`);
          expectThat(cl[4] === cp[4], () => `CPU: step 5 after a predict ${cl[4]} vs without ${cp[4]}`);
          expectClose('losses WebGPU vs CPU', vector(gl), vector(cl), 1e-4);
          const [p, q] = [await g.parameters(), await c.parameters()];
          for (const name of Object.keys(q)) expectClose(name, p[name], q[name], 1e-3);
          // A carried call whose batch size is not its carry's is an error, on both backends, and
          // changes nothing.
          for (const t of [g, c]) {
            const steps = t.steps;
            const wrong = await t.trainStep(lmBatch(60, 5, 3), { carryState: true }).then(
              () => undefined,
              (e: unknown) => e,
            );
            expectThat(
              wrong instanceof RnnError && wrong.code === 'OPTION_INVALID' && /batch size 8, this batch has 3/.test(wrong.message),
              () => `${t.backend}: ${String(wrong)}`,
            );
            const wrongEval = await t.predict(probe, { carryState: true }).then(
              () => undefined,
              (e: unknown) => e,
            );
            expectThat(
              wrongEval instanceof RnnError && /last evaluate \/ predict\) has batch size 3, this batch has 1/.test(wrongEval.message),
              () => `${t.backend}: ${String(wrongEval)}`,
            );
            expectThat(t.steps === steps, `${t.backend}: steps ${t.steps} after a rejected step`);
          }
          // The evaluation carry: a training step between two carried predicts does not move it.
          const first = { tokens: { shape: [2, 1], data: Int32Array.of(4, 5) } };
          const second = { tokens: { shape: [2, 1], data: Int32Array.of(6, 7) } };
          const whole = { tokens: { shape: [4, 1], data: Int32Array.of(4, 5, 6, 7) } };
          for (const t of [g, c]) {
            await t.predict(first);
            const all = await t.predict(whole);
            await t.predict(first);
            const after = await t.predict(second, { carryState: true });
            expectClose(`${t.backend}: carried predict`, after, { shape: [2, 1, 11], data: all.data.slice(2 * 11) }, t.backend === 'cpu' ? 1e-12 : 1e-5);
          }
          return `step 5 losses: WebGPU ${gl[4].toFixed(5)}, CPU ${cl[4].toFixed(5)}`;
        });
      },
    },
    {
      name: 'training: a non-finite step makes no update; the read reports it and the trainer stands at the step before (GPU = CPU)',
      run: async () => {
        const model: ModelConfigInput = { rnn: { mode: 'GRU', input_size: 3, hidden_size: 4 }, head: { out_features: 2 }, loss: 'mse' };
        const next = seededUniform(71);
        const good = (): TrainBatch => ({ input: { shape: [4, 2, 3], data: floats(next, 24) }, target: { shape: [4, 2, 2], data: floats(next, 16) } });
        const batches = [good(), good(), good(), good()];
        const poisoned = good();
        (poisoned.input!.data as Float32Array)[7] = Number.NaN;
        const optimizer = { name: 'adam' as const, lr: 0.05 };
        return withTrainers(
          [
            { model, optimizer, seed: 1 },
            { model, optimizer, seed: 1, backend: 'cpu' },
          ],
          async (trainers) => {
            const notes: string[] = [];
            for (const t of trainers) {
              await t.trainStep(batches[0]);
              await t.trainStep(batches[1]);
              const before = await t.parameters();
              await t.trainStep(poisoned); // step 3: NaN loss, no update
              await t.trainStep(batches[2]); // step 4: halted, no update
              const error = await t.trainStep(batches[3], { readLoss: true }).then(
                () => undefined,
                (e: unknown) => e,
              );
              expectThat(
                error instanceof RnnError &&
                  error.code === 'NON_FINITE' &&
                  /training step 3: the loss was NaN/.test(error.message) &&
                  /nor did the 2 step/.test(error.message),
                () => `${t.backend}: ${String(error)}`,
              );
              expectThat(t.steps === 2, `${t.backend}: steps ${t.steps} after the halt was read`);
              const still = await t.parameters();
              for (const name of Object.keys(before)) expectClose(`${t.backend}: ${name} after the halt`, still[name], before[name], 0);
              // It goes on from there, as a trainer that never saw the poisoned batch.
              const r = await t.trainStep(batches[2], { readLoss: true });
              expectThat(Number.isFinite(r.loss) && (t.steps as number) === 3, () => `${t.backend}: after the halt, loss ${r.loss}, steps ${t.steps}`);
              notes.push(`${t.backend} loss ${r.loss!.toFixed(5)}`);
            }
            const [p, q] = [await trainers[0].parameters(), await trainers[1].parameters()];
            for (const name of Object.keys(q)) expectClose(name, p[name], q[name], 1e-4);
            return notes.join(', ');
          },
        );
      },
    },
    {
      name: "training: steps issued without awaiting run in order (the CPU trainer's parameters)",
      run: async () => {
        const model = { ...lm, rnn: { ...lm.rnn, dropout: 0 } };
        const batches = [lmBatch(1, 6, 3), lmBatch(2, 4, 2), lmBatch(3, 6, 3)];
        const optimizer = { name: 'adam' as const, lr: 0.05, clip_grad_norm: 0.5 };
        return withTrainers(
          [
            { model, optimizer, seed: 2 },
            { model, optimizer, seed: 2, backend: 'cpu' },
          ],
          async ([gpu, cpu]) => {
            const pending = [...batches, ...batches].map((b, i) => gpu.trainStep(b, { readLoss: i % 2 === 0 }));
            const wanted: number[] = [];
            for (const b of [...batches, ...batches]) wanted.push((await cpu.trainStep(b, { readLoss: true })).loss!);
            const got = await Promise.all(pending);
            got.forEach((r, i) =>
              expectThat(
                i % 2 === 1 ? r.loss === undefined : Math.abs(r.loss! - wanted[i]) <= 1e-4 * wanted[i],
                () => `step ${i + 1}: loss ${r.loss} vs CPU ${wanted[i]}`,
              ),
            );
            const [p, q] = [await gpu.parameters(), await cpu.parameters()];
            for (const name of Object.keys(q)) expectClose(name, p[name], q[name], 1e-3);
            return `${got.length} steps, ${gpu.steps} taken`;
          },
        );
      },
    },
    {
      name: "training: the first recurrent layer takes the embedding's table (vocabulary under half the positions) or its rows (not), and both give the CPU trainer's gradients",
      run: async () => {
        const models: ModelConfigInput[] = [
          {
            embedding: { num_embeddings: 5, embedding_dim: 3 },
            rnn: { mode: 'LSTM', input_size: 3, hidden_size: 4, num_layers: 2, bidirectional: true },
            head: { out_features: 5 },
            loss: 'cross_entropy',
          },
          {
            embedding: { num_embeddings: 6, embedding_dim: 7 },
            rnn: { mode: 'GRU', input_size: 7, hidden_size: 5 },
            head: { out_features: 6 },
            loss: 'cross_entropy',
          },
        ];
        const seen: string[] = [];
        for (const model of models) {
          const V = model.embedding!.num_embeddings;
          await withTrainers([{ model }, { model, backend: 'cpu' }], async ([gpu, cpu]) => {
            // 17 × 3 positions ≥ 2V: the table taken; 2 × 2 < 2V: the rows gathered.
            for (const [T, B, taken] of [
              [17, 3, true],
              [2, 2, false],
            ] as const) {
              const next = seededUniform(T * 7 + V);
              const batch: TrainBatch = {
                tokens: { shape: [T, B], data: ints(next, T * B, V) },
                target: { shape: [T, B], data: ints(next, T * B, V) },
                lengths: Int32Array.from({ length: B }, (_, b) => (b === 1 ? Math.max(1, T - 5) : T)),
              };
              const [g, c] = [await gpu.gradients(batch), await cpu.gradients(batch)];
              const plan = gpu.diagnostics()!.plans.find((p) => p.T === T && p.B === B)!;
              expectThat(plan.tablesTaken.includes('embedding.output') === taken, `T ${T}, B ${B}: tables taken [${plan.tablesTaken}]`);
              expectThat(Math.abs(g.loss - c.loss) <= 1e-5 * c.loss, `loss ${g.loss} vs CPU ${c.loss}`);
              for (const [name, want] of Object.entries(c.grads)) expectClose(`T ${T}, B ${B}: grad ${name}`, g.grads[name], want, 1e-4);
              seen.push(`${model.rnn.mode} ${taken ? 'table' : 'rows'}`);
            }
          });
        }
        return seen.join(', ');
      },
    },
    {
      name: 'training: a second step of the same shape creates no GPU objects; a rejected batch changes nothing',
      run: async () => {
        const model = lm;
        const optimizer = { name: 'adam' as const, lr: 0.01, clip_grad_norm: 1 };
        const batch = lmBatch(13, 6, 3);
        return withTrainers([{ model, optimizer }], async ([trainer]) => {
          await trainer.trainStep(batch, { readLoss: true });
          const before = await deviceDiagnostics();
          const r = await trainer.trainStep(batch, { readLoss: true });
          const after = await deviceDiagnostics();
          expectThat(Number.isFinite(r.loss), `loss ${r.loss}`);
          const counts = (d: typeof before) => `${d.buffers.created} buffers, ${d.pipelines} pipelines, ${d.bindGroupsCreated} bind groups`;
          expectThat(counts(after) === counts(before), () => `second step: ${counts(before)} before, ${counts(after)} after`);
          const params = await trainer.parameters();
          const bad: TrainBatch = { tokens: batch.tokens, target: { shape: [6, 2], data: new Int32Array(12) } };
          const error = await trainer.trainStep(bad).then(
            () => undefined,
            (e: unknown) => e,
          );
          expectThat(error instanceof RnnError && error.code === 'TENSOR_INVALID', () => `bad target: ${String(error)}`);
          expectThat(trainer.steps === 2, `steps ${trainer.steps} after a rejected batch`);
          const still = await trainer.parameters();
          for (const name of Object.keys(params)) expectClose(name, still[name], params[name], 0);
          return counts(after);
        });
      },
    },
  ];
}

/**
 * The backward kernels meant for the other kind of adapter (the persistent kernel has a variant for
 * software adapters, W_hh cached in registers, and one for GPUs), on a device of its own told it is
 * the other kind: every fitting fixture's gradients, persistent strategy.
 */
function otherAdapterCase(load: LoadBytes, cases: readonly TrainingCase[]): GpuCase {
  return {
    name: 'training: the persistent backward kernel meant for the other kind of adapter, every fitting fixture',
    run: () =>
      onOtherAdapterKind(async (own, ctx) => {
        const fitting = cases.filter((c) => !backwardUnfit('persistent', resolveModelConfig(c.model).rnn));
        for (const meta of fitting) {
          const f = await loadTrainingFixture(load, meta);
          await withTrainers([{ model: meta.model, weights: f.params, strategy: 'persistent', device: own }], async ([trainer]) => {
            const g = await trainer.gradients(f.batch);
            for (const [name, want] of Object.entries(f.grads)) expectClose(`${meta.name} grad ${name}`, g.grads[name], want, 1e-4);
            if (f.gradH0) expectClose(`${meta.name} grad h0`, g.h0, f.gradH0, 1e-4);
          });
        }
        return `${ctx.isSoftwareAdapter ? 'software' : 'GPU'} kernels: ${fitting.length} fixtures`;
      }),
  };
}

/** Every training case; the manifests' cases from test/support/training-fixtures.ts and seq2seq-fixtures.ts. */
export function trainingSuiteCases(load: LoadBytes, manifests: TrainingManifests): GpuCase[] {
  const cases = manifests.sequence;
  const fixtures = cases.flatMap((c) =>
    BACKWARD_STRATEGIES.filter((s) => !backwardUnfit(s, resolveModelConfig(c.model).rnn)).map((s) => fixtureCase(load, c, s)),
  );
  return [...fixtures, otherAdapterCase(load, cases), ...referenceCases(), ...seq2seqSuiteCases(load, manifests.seq2seq)];
}
