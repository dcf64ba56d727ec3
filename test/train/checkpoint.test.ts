// Checkpoints (src/train/checkpoint.ts): k steps, checkpoint, resume in a new trainer, N − k steps gives
// the parameters and losses of N uninterrupted steps — bit for bit on the same backend (the CPU's
// float64 and WebGPU alike), within 1e-6 across backends — for every optimizer with the arguments that
// give it state, each schedule, both clippings, dropout between layers and on h_{t−1} (recurrent), and carried state (truncated
// BPTT over consecutive windows; the evaluation carry too). And the file itself: PyTorch's names for
// the weights, torch.optim's for the state, and a one-line error for every way a checkpoint can be
// wrong, with nothing changed.
import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/safetensors.js';
import type { Tensor } from '../../src/tensor.js';
import { seededUniform } from '../../src/random.js';
import type { TrainBatch } from '../../src/train/batch.js';
import type { TrainableConfig } from '../../src/train/config.js';
import type { OptimizerConfigInput } from '../../src/train/optim.js';
import { type Trainer, createTrainer } from '../../src/train/trainer.js';
import { relativeError } from '../support/compare.js';

const model = {
  embedding: { num_embeddings: 7, embedding_dim: 4 },
  rnn: { mode: 'LSTM' as const, input_size: 4, hidden_size: 5, num_layers: 2, dropout: 0.3, recurrent_dropout: 0.25 },
  head: { out_features: 7 },
  loss: 'cross_entropy' as const,
};

function batches(n: number, seed = 1): TrainBatch[] {
  const next = seededUniform(seed);
  const ids = (k: number) => Int32Array.from({ length: k }, () => Math.floor(next() * 7));
  return Array.from({ length: n }, () => ({ tokens: { shape: [5, 3], data: ids(15) }, target: { shape: [5, 3], data: ids(15) } }));
}

const OPTIMIZERS: Array<[string, OptimizerConfigInput]> = [
  ['Adam, amsgrad, cosine, clip_grad_norm', { name: 'adam', lr: 0.05, amsgrad: true, clip_grad_norm: 0.5, lr_schedule: { name: 'cosine', T_max: 5 } }],
  ['AdamW, step schedule', { name: 'adamw', lr: 0.05, lr_schedule: { name: 'step', step_size: 2, gamma: 0.5 } }],
  [
    'SGD, Nesterov momentum, clip_grad_value, linear warm-up',
    { name: 'sgd', lr: 0.3, momentum: 0.9, nesterov: true, clip_grad_value: 0.05, lr_schedule: { name: 'linear', total_iters: 4 } },
  ],
  ['RMSprop, centered, momentum', { name: 'rmsprop', lr: 0.01, centered: true, momentum: 0.5 }],
];

/** Steps over `data` with the evaluation carry moved in between: the losses. */
async function run(trainer: Trainer<TrainableConfig>, data: TrainBatch[], probe: TrainBatch): Promise<number[]> {
  const losses: number[] = [];
  for (const batch of data) {
    losses.push((await trainer.trainStep(batch, { readLoss: true, carryState: true })).loss!);
    losses.push(await trainer.evaluate(probe, { carryState: true }));
  }
  return losses;
}

const flat = (p: Record<string, Tensor>) => Object.values(p).flatMap((t) => Array.from(t.data));

describe('checkpoint and resume', () => {
  const N = 6;
  const k = 3;
  it.each(['cpu', 'webgpu'] as const)('%s: N steps = k steps, checkpoint, resume, N − k steps, bit for bit, for every optimizer', async (backend) => {
    const data = batches(N);
    const probe = batches(1, 9)[0];
    for (const [what, optimizer] of OPTIMIZERS) {
      const options = { model, optimizer, backend, seed: 5, init: { seed: 3 } };
      const straight = await createTrainer(options);
      const want = await run(straight, data, probe);
      const first = await createTrainer(options);
      const got = await run(first, data.slice(0, k), probe);
      const bytes = await first.checkpoint();
      await first.destroy();
      const resumed = await createTrainer({ resume: bytes, backend });
      expect(resumed.steps, what).toBe(k);
      expect(resumed.optimizer, what).toEqual(straight.optimizer);
      got.push(...(await run(resumed, data.slice(k), probe)));
      expect(got, what).toEqual(want);
      expect(flat(await resumed.parameters()), what).toEqual(flat(await straight.parameters()));
      await Promise.all([straight.destroy(), resumed.destroy()]);
    }
  });

  it('across backends: a WebGPU checkpoint continues on the CPU (and back) within 1e-6 of the run that stayed', async () => {
    const data = batches(N);
    const probe = batches(1, 9)[0];
    const optimizer = OPTIMIZERS[0][1];
    for (const [from, to] of [
      ['webgpu', 'cpu'],
      ['cpu', 'webgpu'],
    ] as const) {
      const straight = await createTrainer({ model, optimizer, backend: from, seed: 5, init: { seed: 3 } });
      const want = await run(straight, data, probe);
      const first = await createTrainer({ model, optimizer, backend: from, seed: 5, init: { seed: 3 } });
      await run(first, data.slice(0, k), probe);
      const resumed = await createTrainer({ resume: await first.checkpoint(), backend: to });
      expect(resumed.backend).toBe(to);
      const got = await run(resumed, data.slice(k), probe);
      expect(relativeError(got, want.slice(2 * k)), `${from} → ${to}: losses`).toBeLessThan(1e-6);
      expect(relativeError(flat(await resumed.parameters()), flat(await straight.parameters())), `${from} → ${to}: parameters`).toBeLessThan(1e-6);
      await Promise.all([straight.destroy(), first.destroy(), resumed.destroy()]);
    }
  });

  it("holds the weights under PyTorch's names, torch.optim's state names, the carries and the run's metadata", async () => {
    const trainer = await createTrainer({ model, optimizer: OPTIMIZERS[0][1], backend: 'cpu', seed: 5 });
    await run(trainer, batches(2), batches(1, 9)[0]);
    const file = readSafetensors(await trainer.checkpoint({ metadata: { corpus: 'cats.txt', position: '42' } }));
    const names = Object.keys(file.tensors);
    expect(names).toContain('rnn.weight_ih_l1');
    expect(names).toContain('optimizer.rnn.weight_ih_l1.exp_avg');
    expect(names).toContain('optimizer.head.bias.max_exp_avg_sq');
    expect(names).toContain('carry.train.h');
    expect(file.tensors['carry.eval.c'].shape).toEqual([2, 3, 5]);
    expect(file.dtypes['rnn.weight_ih_l1']).toBe('F64'); // the CPU's float64, kept exactly
    expect(file.metadata).toMatchObject({ webgpu_rnn_checkpoint: '1', steps: '2', seed: '5', backend: 'cpu', corpus: 'cats.txt', position: '42' });
    expect(JSON.parse(file.metadata.optimizer)).toMatchObject({ name: 'adam', amsgrad: true });
    // The parameters alone still load as weights: PyTorch's load_state_dict(strict=False) sees the same names.
    const weights = Object.fromEntries(Object.entries(file.tensors).filter(([k]) => !k.startsWith('optimizer.') && !k.startsWith('carry.')));
    const again = await createTrainer({ model, weights: weights as Record<string, Tensor>, backend: 'cpu' });
    expect(flat(await again.parameters())).toEqual(flat(await trainer.parameters()));
    await Promise.all([trainer.destroy(), again.destroy()]);
  });

  it('refuses, in one line naming what is wrong, a checkpoint that is not one, damaged, of another model or optimizer, or given with weights', async () => {
    const trainer = await createTrainer({ model, optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9 }, backend: 'cpu' });
    await trainer.trainStep(batches(1)[0]);
    const bytes = await trainer.checkpoint();
    const file = readSafetensors(bytes);
    const without = (name: string) =>
      writeSafetensors(Object.fromEntries(Object.entries(file.tensors).filter(([k]) => k !== name)) as Record<string, Tensor>, {
        floatDtype: 'F64',
        metadata: file.metadata,
      });
    const cases: Array<[Parameters<typeof createTrainer>[0], RegExp]> = [
      [{ resume: await trainer.stateDict() }, /not a training checkpoint .*options.weights/],
      [{ resume: bytes.subarray(0, bytes.length - 9) }, /safetensors|truncated|bytes/i],
      [{ resume: without('optimizer.rnn.weight_hh_l0.momentum_buffer') }, /missing tensor optimizer\.rnn\.weight_hh_l0\.momentum_buffer/],
      [{ resume: bytes, model: { ...model, rnn: { ...model.rnn, hidden_size: 6 } } }, /options\.model: differs from the resumed checkpoint's/],
      [{ resume: bytes, optimizer: { name: 'adam' } }, /options\.optimizer: differs/],
      [{ resume: bytes, seed: 7 }, /options\.seed: differs/],
      [{ resume: bytes, weights: file }, /options\.weights: not with resume/],
      [
        { resume: writeSafetensors(file.tensors as Record<string, Tensor>, { floatDtype: 'F64', metadata: { ...file.metadata, webgpu_rnn_checkpoint: '9' } }) },
        /version "9"/,
      ],
      [
        {
          resume: writeSafetensors(file.tensors as Record<string, Tensor>, {
            floatDtype: 'F64',
            metadata: { ...file.metadata, fit: '{"best":"1","stale":-1}' },
          }),
        },
        /metadata "fit" is not fit's early-stopping state/,
      ],
      [
        {
          resume: writeSafetensors(file.tensors as Record<string, Tensor>, {
            floatDtype: 'F64',
            metadata: { ...file.metadata, fit: '{"best":"1","bestStep":0,"stale":1,"bestParams":true}' },
          }),
        },
        /missing tensor fit\.best\.embedding\.weight/,
      ],
    ];
    for (const [options, message] of cases) {
      const made = createTrainer({ backend: 'cpu', ...options });
      await expect(made, String(message)).rejects.toThrow(message);
      await made.catch((e: Error) => expect(e.message.split('\n')).toHaveLength(1));
    }
    // A model whose optimizer keeps no momentum: the SGD checkpoint's buffers are unexpected there.
    await expect(createTrainer({ backend: 'cpu', resume: bytes, optimizer: { name: 'sgd', lr: 0.1 } })).rejects.toThrow(/optimizer: differs/);
    await expect(trainer.checkpoint({ metadata: { steps: '1' } })).rejects.toThrow(/"steps" is a key of the checkpoint's own/);
    await expect(trainer.checkpoint({ fit: { best: Number.NaN, bestStep: 0, stale: 0 } })).rejects.toThrow(/checkpoint options\.fit: expected fit's state/);
    expect(trainer.steps).toBe(1);
    await trainer.destroy();
  });
});
