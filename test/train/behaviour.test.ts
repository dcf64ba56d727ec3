// What training on WebGPU must do beyond matching PyTorch on fixtures:
//  - dropout between layers uses the same counter-based masks as the CPU reference (same gradients),
//    and really drops (different gradients from dropout 0);
//  - gradients vanish in a plain RNN and survive in an LSTM with forget bias 1 (200 steps, loss at the
//    end only): ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ orders of magnitude apart;
//  - a second step of the same shape creates no GPU objects;
//  - the trained recurrent module runs in the inference engine (toRnn) and gives the trainer's outputs.
import { describe, expect, it } from 'vitest';
import { deviceDiagnostics } from '../../src/diagnostics.js';
import { getDefaultDevice } from '../../src/gpu/device.js';
import { seededUniform } from '../../src/random.js';
import type { TrainBatch } from '../../src/train/batch.js';
import type { ModelConfigInput } from '../../src/train/config.js';
import { createTrainer } from '../../src/train/trainer.js';
import { expectClose } from '../support/compare.js';

function floats(next: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (2 * next() - 1) * scale);
}

describe('training behaviour', () => {
  it('dropout: the GPU draws the CPU reference\'s masks (same gradients), and they drop', async () => {
    const model: ModelConfigInput = { rnn: { mode: 'LSTM', input_size: 3, hidden_size: 6, num_layers: 3, dropout: 0.4 }, head: { out_features: 2 }, loss: 'mse' };
    const next = seededUniform(5);
    const batch: TrainBatch = { input: { shape: [5, 3, 3], data: floats(next, 45) }, target: { shape: [5, 3, 2], data: floats(next, 30) } };
    const [gpu, cpu] = [await createTrainer({ model, seed: 9 }), await createTrainer({ model, seed: 9, backend: 'cpu' })];
    const noDrop = await createTrainer({ model: { ...model, rnn: { ...model.rnn, dropout: 0 } }, seed: 9, backend: 'cpu' });
    try {
      const [g, c, n] = [await gpu.gradients(batch), await cpu.gradients(batch), await noDrop.gradients(batch)];
      for (const [name, want] of Object.entries(c.grads)) expectClose(`grad ${name}`, g.grads[name], want, 1e-4);
      expect(Math.abs(c.loss - n.loss)).toBeGreaterThan(1e-3);
    } finally {
      await Promise.all([gpu.destroy(), cpu.destroy(), noDrop.destroy()]);
    }
  });

  it('gradients vanish through a plain RNN and survive through an LSTM with forget bias 1 (T = 200)', async () => {
    const T = 200;
    const next = seededUniform(11);
    const input = { shape: [T, 2, 4], data: floats(next, T * 2 * 4) };
    const batch: TrainBatch = { input, target: { shape: [2, 1], data: floats(next, 2) } };
    const ratios: Record<string, number> = {};
    for (const backend of ['webgpu', 'cpu'] as const) {
      for (const mode of ['RNN_TANH', 'LSTM'] as const) {
        const trainer = await createTrainer({
          model: { rnn: { mode, input_size: 4, hidden_size: 32 }, head: { out_features: 1, on: 'h_n' }, loss: 'mse' },
          init: mode === 'LSTM' ? { forgetBias: 1, seed: 3 } : { seed: 3 }, backend,
        });
        try {
          const { flow } = await trainer.gradientFlow(batch);
          expect(flow[0]).toHaveLength(T);
          ratios[`${mode} ${backend}`] = flow[0][0] / flow[0][T - 1];
        } finally {
          await trainer.destroy();
        }
      }
    }
    console.log(`‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ over ${T} steps: ${Object.entries(ratios).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
    // A vanilla RNN at PyTorch's init loses the gradient within tens of steps (in f32 it underflows to
    // 0 on the way); the LSTM's additive cell path carries it all 200 steps, orders of magnitude more.
    for (const backend of ['webgpu', 'cpu']) expect(ratios[`RNN_TANH ${backend}`]).toBeLessThan(ratios[`LSTM ${backend}`] / 1e3);
    expect(ratios['LSTM webgpu']).toBeGreaterThan(0);
    expect(Math.abs(ratios['LSTM webgpu'] / ratios['LSTM cpu'] - 1)).toBeLessThan(1e-2);
  });

  it('a second training step of the same shape creates no GPU objects', async () => {
    const next = seededUniform(13);
    const trainer = await createTrainer({
      model: { embedding: { num_embeddings: 10, embedding_dim: 4 }, rnn: { mode: 'GRU', input_size: 4, hidden_size: 8, num_layers: 2, dropout: 0.2 }, head: { out_features: 10 }, loss: 'cross_entropy' },
      optimizer: { name: 'adam', lr: 0.01, clip_grad_norm: 1 },
    });
    const batch: TrainBatch = {
      tokens: { shape: [6, 3], data: Int32Array.from({ length: 18 }, () => Math.floor(next() * 10)) },
      target: { shape: [6, 3], data: Int32Array.from({ length: 18 }, () => Math.floor(next() * 10)) },
    };
    try {
      await trainer.trainStep(batch, { readLoss: true });
      const before = await deviceDiagnostics(await getDefaultDevice());
      const r = await trainer.trainStep(batch, { readLoss: true });
      const after = await deviceDiagnostics(await getDefaultDevice());
      expect(Number.isFinite(r.loss)).toBe(true);
      expect({ created: after.buffers.created, pipelines: after.pipelines, bindGroups: after.bindGroupsCreated })
        .toEqual({ created: before.buffers.created, pipelines: before.pipelines, bindGroups: before.bindGroupsCreated });
    } finally {
      await trainer.destroy();
    }
  });

  it('the trained recurrent module runs in the inference engine and gives the CPU trainer\'s outputs', async () => {
    const model: ModelConfigInput = { rnn: { mode: 'LSTM', input_size: 3, hidden_size: 5, proj_size: 2, bidirectional: true }, loss: 'mse' };
    const next = seededUniform(17);
    const batch: TrainBatch = { input: { shape: [4, 2, 3], data: floats(next, 24) }, target: { shape: [4, 2, 4], data: floats(next, 32) } };
    const trainer = await createTrainer({ model, optimizer: { name: 'sgd', lr: 0.5 } });
    try {
      for (let s = 0; s < 3; s++) await trainer.trainStep(batch);
      const rnn = await trainer.toRnn();
      const reference = await createTrainer({ model, weights: await trainer.parameters(), backend: 'cpu' });
      const cpuRnn = await reference.toRnn();
      const [a, b] = [await rnn.forward(batch.input!), await cpuRnn.forward(batch.input!)];
      expectClose('output', a.output, b.output, 1e-4);
      await rnn.destroy();
      await reference.destroy();
    } finally {
      await trainer.destroy();
    }
  });
});
