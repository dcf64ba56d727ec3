// Learning-rate schedules (src/train/optim.ts) against PyTorch's rates step by step
// (test/fixtures/schedules, from generate_schedules.py): ExponentialLR, SequentialLR (a warm-up then
// cosine; three parts), ReduceLROnPlateau in both modes and threshold modes, with cooldown and min_lr;
// the trainer running the plateau's rate (plateauStep, fit, checkpoints), and bad schedules refused.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seededUniform } from '../../src/random.js';
import type { TrainBatch } from '../../src/train/batch.js';
import { PlateauSchedule, type ScheduleConfig, learningRate, resolveOptimizer } from '../../src/train/optim.js';
import { createTrainer } from '../../src/train/trainer.js';

interface Fixture {
  torch_version: string;
  lr: number;
  losses: number[];
  cases: Array<{ name: string; schedule: ScheduleConfig; rates: number[] }>;
}
const fixture: Fixture = JSON.parse(readFileSync(new URL('../fixtures/schedules/schedules.json', import.meta.url), 'utf8'));

const close = (got: number[], want: number[]) => got.every((g, i) => Math.abs(g - want[i]) <= 1e-12 * Math.abs(want[i]) + 1e-15);

describe("learning-rate schedules give PyTorch's rates", () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const opt = resolveOptimizer({ name: 'sgd', lr: fixture.lr, lr_schedule: c.schedule });
    let rates: number[];
    if (opt.lr_schedule?.name === 'plateau') {
      const plateau = new PlateauSchedule(opt.lr_schedule, opt.lr);
      rates = fixture.losses.map((loss) => {
        const lr = plateau.state.lr;
        plateau.step(loss);
        return lr;
      });
    } else rates = c.rates.map((_, k) => learningRate(opt, k));
    expect(close(rates, c.rates), `${rates.slice(0, 12)} vs PyTorch ${c.rates.slice(0, 12)}`).toBe(true);
  });
});

const model = {
  embedding: { num_embeddings: 5, embedding_dim: 3 },
  rnn: { mode: 'GRU' as const, input_size: 3, hidden_size: 4 },
  head: { out_features: 5 },
  loss: 'cross_entropy' as const,
};
const next = seededUniform(3);
const ids = (n: number) => Int32Array.from({ length: n }, () => Math.floor(next() * 5));
const batch: TrainBatch = { tokens: { shape: [4, 2], data: ids(8) }, target: { shape: [4, 2], data: ids(8) } };

describe('the plateau schedule in the trainer', () => {
  it('plateauStep lowers the rate the next steps use, as SGD shows in the update; checkpoints keep it', async () => {
    const optimizer = { name: 'sgd' as const, lr: 0.1, lr_schedule: { name: 'plateau' as const, patience: 0, factor: 0.5 } };
    const trainer = await createTrainer({ model, optimizer, backend: 'cpu', init: { seed: 1 } });
    trainer.plateauStep(1);
    trainer.plateauStep(1); // no better: one bad step past patience 0
    expect(trainer.learningRate).toBe(0.05);
    const before = await trainer.parameters();
    const g = await trainer.gradients(batch);
    await trainer.trainStep(batch);
    const after = await trainer.parameters();
    const w = 'head.bias';
    after[w].data.forEach((v, i) => expect(v).toBeCloseTo(before[w].data[i] - 0.05 * g.grads[w].data[i], 14));
    const resumed = await createTrainer({ resume: await trainer.checkpoint(), backend: 'cpu' });
    expect(resumed.learningRate).toBe(0.05);
    resumed.plateauStep(1);
    expect(resumed.learningRate).toBe(0.025); // its best (1) came along: 1 is no better
    await Promise.all([trainer.destroy(), resumed.destroy()]);
  });

  it('fit steps it with each validation loss', async () => {
    // lr 1e-6 barely moves the parameters: the validation loss improves by far less than the relative
    // threshold (1e-4), so it stalls from the first; eps 0 lets such small rates still be lowered.
    const optimizer = { name: 'sgd' as const, lr: 1e-6, lr_schedule: { name: 'plateau' as const, patience: 1, factor: 0.1, eps: 0 } };
    const trainer = await createTrainer({ model, optimizer, backend: 'cpu' });
    await trainer.fit([batch], { epochs: 5, validation: [batch] });
    // Validations 1 … 5: the best at 1, then bad 1, bad 2 (> patience: lowered), bad 1, bad 2 (lowered).
    expect(trainer.learningRate / 1e-6).toBeCloseTo(0.01, 12);
    await trainer.destroy();
  });

  it('refuses bad schedules and a plateau step without that schedule, by name', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ name: 'exponential' }, /lr_schedule\.gamma: expected a number > 0, got undefined/],
      [{ name: 'sequential', schedulers: [{ name: 'exponential', gamma: 0.9 }], milestones: [3] }, /milestones: expected 0 step\(s\)/],
      [
        { name: 'sequential', schedulers: [{ name: 'plateau' }, { name: 'exponential', gamma: 0.9 }], milestones: [3] },
        /schedulers\[0\]: "plateau" cannot be a part/,
      ],
      [{ name: 'sequential', schedulers: [{ name: 'linear' }, { name: 'linear' }, { name: 'linear' }], milestones: [4, 4] }, /milestones: expected increasing/],
      [{ name: 'plateau', mode: 'down' }, /lr_schedule\.mode: expected "min" or "max"/],
      [{ name: 'plateau', patiense: 3 }, /unknown key\(s\) "patiense" for "plateau"/],
      [{ name: 'onecycle' }, /lr_schedule\.name: expected "step", "cosine", "linear", "exponential", "sequential", "plateau", got "onecycle"/],
    ];
    for (const [schedule, message] of cases) expect(() => resolveOptimizer({ name: 'adam', lr_schedule: schedule as ScheduleConfig })).toThrow(message);
    expect(() => resolveOptimizer({ name: 'adam', l1: -0.1 })).toThrow(/optimizer\.l1: invalid value -0\.1/);
    const trainer = await createTrainer({ model, backend: 'cpu', optimizer: { name: 'adam', lr_schedule: { name: 'exponential', gamma: 0.5 } } });
    expect(() => trainer.plateauStep(1)).toThrow(/schedule is "exponential", not "plateau"/);
    expect(trainer.learningRate).toBe(0.001);
    await trainer.destroy();
  });
});
