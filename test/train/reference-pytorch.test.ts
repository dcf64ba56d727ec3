// The float64 training reference against PyTorch's autograd and torch.optim (fixtures from
// test/fixtures/generate_training.py): the loss, every parameter's gradient and dL/dh0 / dL/dc0 on
// every case, and five-step trajectories of every optimizer with clipping and schedules.
import { describe, expect, it } from 'vitest';
import { prepareBatch } from '../../src/train/batch.js';
import { resolveModelConfig } from '../../src/train/config.js';
import { CpuTrainer } from '../../src/train/cpu-trainer.js';
import { resolveOptimizer } from '../../src/train/optim.js';
import { expectClose } from '../support/compare.js';
import { loadNodeBytes } from '../support/node-fixtures.js';
import { loadTrainingFixture, trainingCases } from '../support/training-fixtures.js';

const cases = await trainingCases(loadNodeBytes);
const RTOL = 1e-9;

describe('training reference vs PyTorch', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, meta) => {
    const f = await loadTrainingFixture(loadNodeBytes, meta);
    const model = resolveModelConfig(meta.model);
    const params = Object.fromEntries(Object.entries(f.params).map(([k, v]) => [k, Float64Array.from(v.data)]));
    const batch = prepareBatch(model, f.batch);
    const trainer = new CpuTrainer(model, params);
    const g = await trainer.gradients(batch, { flow: false });
    expect(Math.abs(g.loss - f.loss) / Math.abs(f.loss)).toBeLessThan(RTOL);
    for (const [name, want] of Object.entries(f.grads)) expectClose(`grad ${name}`, { shape: want.shape, data: g.grads[name] }, want, RTOL);
    if (f.gradH0) expectClose('grad h0', { shape: f.gradH0.shape, data: g.h0 }, f.gradH0, RTOL);
    if (f.gradC0) expectClose('grad c0', { shape: f.gradC0.shape, data: g.c0! }, f.gradC0, RTOL);
    if (meta.optimizer) {
      const opt = resolveOptimizer(meta.optimizer);
      const start = Object.fromEntries(Object.entries(f.params).map(([k, v]) => [k, Float64Array.from(v.data)]));
      const run = new CpuTrainer(model, Object.fromEntries(Object.entries(start).map(([k, v]) => [k, Float64Array.from(v)])));
      const losses: number[] = [];
      const norms: number[] = [];
      for (let s = 0; s < meta.steps!; s++) {
        const r = await run.step(batch, opt, { readLoss: true, carry: false });
        losses.push(r.loss!);
        norms.push(r.gradNorm!);
      }
      expectClose('losses', { shape: [losses.length], data: Float64Array.from(losses) }, { shape: [losses.length], data: f.losses! }, RTOL);
      expectClose('grad norms', { shape: [norms.length], data: Float64Array.from(norms) }, { shape: [norms.length], data: f.gradNorms! }, RTOL);
      for (const [name, want] of Object.entries(f.final!)) {
        const moved = Float64Array.from(run.params[name], (v, i) => v - start[name][i]);
        const wantMoved = Float64Array.from(want.data, (v, i) => v - start[name][i]);
        expectClose(`update p − p0 of ${name}`, { shape: want.shape, data: moved }, { shape: want.shape, data: wantMoved }, 1e-7);
      }
    }
  });
});
