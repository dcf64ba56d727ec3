// Training on WebGPU against PyTorch's autograd and torch.optim (the fixtures of
// test/fixtures/generate_training.py): loss and every gradient (‖a−b‖/‖b‖ ≤ 1e-4 per tensor), dL/dh0 and
// dL/dc0, and five-step trajectories of every optimizer with clipping and schedules (p − p0 ≤ 1e-3).
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, getDefaultDevice } from '../../src/gpu/device.js';
import { prepareBatch } from '../../src/train/batch.js';
import { resolveModelConfig } from '../../src/train/config.js';
import { GpuTrainer } from '../../src/train/gpu-trainer.js';
import { resolveOptimizer } from '../../src/train/optim.js';
import { expectClose } from '../support/compare.js';
import { loadTrainingFixture, trainingCases } from '../support/training-fixtures.js';

const cases = await trainingCases();
let ctx: GpuContext;
beforeAll(async () => {
  ctx = await contextFor(await getDefaultDevice());
});

describe('GPU training vs PyTorch', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, meta) => {
    const f = await loadTrainingFixture(meta);
    const model = resolveModelConfig(meta.model);
    const params = Object.fromEntries(Object.entries(f.params).map(([k, v]) => [k, v.data]));
    const batch = prepareBatch(model, f.batch);
    const trainer = new GpuTrainer(ctx, model, params);
    try {
      const g = await trainer.gradients(batch);
      expect(Math.abs(g.loss! - f.loss) / Math.abs(f.loss)).toBeLessThan(1e-5);
      for (const [name, want] of Object.entries(f.grads)) expectClose(`grad ${name}`, { shape: want.shape, data: g.grads[name] }, want, 1e-4);
      if (f.gradH0) {
        // g.initial holds, per layer, dL/dh0 (D, B, H_out) then dL/dc0 (D, B, H): split it as PyTorch shapes them.
        const [LD, B, Hout] = f.gradH0.shape;
        const L = model.rnn.num_layers;
        const D = LD / L;
        const H = model.rnn.hidden_size;
        const per = D * B * (Hout + (f.gradC0 ? H : 0));
        const h = new Float32Array(LD * B * Hout);
        const c = new Float32Array(f.gradC0 ? LD * B * H : 0);
        for (let l = 0; l < L; l++) {
          h.set(g.initial.subarray(l * per, l * per + D * B * Hout), l * D * B * Hout);
          if (f.gradC0) c.set(g.initial.subarray(l * per + D * B * Hout, (l + 1) * per), l * D * B * H);
        }
        expectClose('grad h0', { shape: f.gradH0.shape, data: h }, f.gradH0, 1e-4);
        if (f.gradC0) expectClose('grad c0', { shape: f.gradC0.shape, data: c }, f.gradC0, 1e-4);
      }
      if (meta.optimizer) {
        const opt = resolveOptimizer(meta.optimizer);
        const losses: number[] = [];
        for (let s = 0; s < meta.steps!; s++) losses.push((await trainer.step(batch, opt, true)).loss!);
        expectClose('losses', { shape: [losses.length], data: Float64Array.from(losses) }, { shape: [losses.length], data: f.losses! }, 1e-4);
        const final = await trainer.parameters();
        for (const [name, want] of Object.entries(f.final!)) {
          const p0 = f.params[name].data;
          expectClose(`update of ${name}`, { shape: want.shape, data: Float64Array.from(final[name], (v, i) => v - p0[i]) }, { shape: want.shape, data: Float64Array.from(want.data, (v, i) => v - p0[i]) }, 1e-3);
        }
      }
    } finally {
      await trainer.destroy();
    }
  });
});
