/**
 * The training lessons' pure parts in Node: the recurrent parameter count (PyTorch's figures, and the
 * library's own parameter specs for layers and directions), the identity-started ReLU RNN's weights,
 * the lockstep runner on the CPU backend (the clipping lesson's science: the unclipped run diverges at
 * a step the library names, the clipped one trains on), and the three captions in both languages —
 * each sentence chosen by the numbers, the numbers in it, no English left in the Chinese.
 */
import { describe, expect, it } from 'vitest';
import { charModel, charTask, identityRecurrentWeights, recurrentParameters, trainLockstep } from '../demo/lessons.js';
import { type CellResult, type ClipRun, type OptimizerResult, cellsCaption, clippingCaption, optimizersCaption } from '../demo/training-captions.js';
import { type RnnMode, parameterSpecs, resolveConfig } from '../src/index.js';

const count = (mode: RnnMode, I: number, H: number, layers: number, bidirectional: boolean) =>
  parameterSpecs(resolveConfig({ mode, input_size: I, hidden_size: H, num_layers: layers, bidirectional })).reduce(
    (n, s) => n + s.shape.reduce((a, b) => a * b, 1),
    0,
  );

/** Latin words of two letters or more, less the names kept in Chinese text. */
const english = (text: string) =>
  (text.match(/[A-Za-z]{2,}/g) ?? []).filter((w) => !['RNN', 'GRU', 'LSTM', 'SGD', 'Adam', 'RMSprop', 'NaN', 'Infinity'].includes(w));

describe('recurrent parameter counts', () => {
  it("PyTorch's figures at I 32, H 128: RNN 20,736, GRU 62,208, LSTM 82,944", () => {
    expect(recurrentParameters('RNN_TANH', 32, 128)).toBe(20_736);
    expect(recurrentParameters('RNN_RELU', 32, 128)).toBe(20_736);
    expect(recurrentParameters('GRU', 32, 128)).toBe(62_208);
    expect(recurrentParameters('LSTM', 32, 128)).toBe(82_944);
  });
  it("equal the library's parameter specs over modes, layers and directions", () => {
    for (const mode of ['RNN_TANH', 'GRU', 'LSTM'] as const)
      for (const [I, H, layers, bi] of [
        [8, 16, 1, false],
        [5, 7, 3, false],
        [32, 128, 2, true],
        [3, 11, 1, true],
      ] as const)
        expect(recurrentParameters(mode, I, H, layers, bi), `${mode} ${I} ${H} ${layers} ${bi}`).toBe(count(mode, I, H, layers, bi));
  });
});

describe('the clipping lesson on the CPU backend', () => {
  it('W_hh = s·I; without clipping the library reports a non-finite step, with it every step is finite and the loss falls', async () => {
    const task = charTask(24, 8);
    const model = charModel(task, 'RNN_RELU', 16, 32);
    const weights = identityRecurrentWeights(model, 1.2, 3);
    const hh = weights['rnn.weight_hh_l0'];
    expect(hh.shape).toEqual([32, 32]);
    expect(hh.data[0]).toBeCloseTo(1.2, 6);
    expect(hh.data[1]).toBe(0);
    expect(hh.data[33]).toBeCloseTo(1.2, 6);
    const runs = [undefined, 1].map((clip) => ({
      id: String(clip),
      options: { model, weights, optimizer: { name: 'sgd' as const, lr: 0.1, ...(clip ? { clip_grad_norm: clip } : {}) }, seed: 1 },
    }));
    const seen: number[] = [];
    const [plain, clipped] = await trainLockstep(runs, task.batches, 30, { backend: 'cpu', onStep: (s) => void seen.push(s) });
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(plain.diverged).toBeDefined();
    expect(plain.diverged!.step).toBeLessThan(10);
    expect(plain.losses).toHaveLength(plain.diverged!.step - 1);
    expect(clipped.diverged).toBeUndefined();
    expect(clipped.losses).toHaveLength(30);
    expect(clipped.losses.every(Number.isFinite)).toBe(true);
    expect(clipped.losses.at(-1)!).toBeLessThan(clipped.losses[0] / 2);
    expect(clipped.losses[0]).toBe(plain.losses[0]); // the same start
  });
  it('stops at the round in flight when aborted', async () => {
    const task = charTask(8, 4);
    const controller = new AbortController();
    const curves = await trainLockstep([{ id: 'a', options: { model: charModel(task, 'GRU', 4, 4), init: { seed: 1 } } }], task.batches, 50, {
      backend: 'cpu',
      signal: controller.signal,
      onStep: (s) => (s === 3 ? controller.abort() : undefined),
    });
    expect(curves[0].steps).toEqual([1, 2, 3]);
  });
});

const CELLS: CellResult[] = [
  { cell: 'RNN', loss: 2.1234, parameters: 20_736, msPerStep: 3.2 },
  { cell: 'GRU', loss: 1.9876, parameters: 62_208, msPerStep: 5.5 },
  { cell: 'LSTM', loss: 2.0456, parameters: 82_944, msPerStep: 6.1 },
];

describe('the cells caption', () => {
  it('names the lowest loss after N steps as the faster learner, with every number, in both languages', () => {
    const en = cellsCaption(40, CELLS, 'en');
    expect(en).toContain(
      'After 40 steps on the same batches, the GRU learned fastest on this run: its loss is 1.988 nats per character, against 2.046 for the LSTM, then the plain RNN (2.123).',
    );
    expect(en).toContain('the GRU (62,208 recurrent parameters) beat the LSTM (82,944)');
    expect(en).toContain('RNN 20,736 parameters, 3.2 ms');
    const zh = cellsCaption(40, CELLS, 'zh');
    expect(zh).toContain('学得最快的是 GRU');
    expect(zh.match(/\d+\.\d+/g)).toEqual(en.match(/\d+\.\d+/g));
    expect(english(zh)).toEqual([]);
  });
  it('calls two losses within 0.02 nats level, and says when the largest cell won', () => {
    expect(cellsCaption(40, [CELLS[0], { ...CELLS[1], loss: 2.11 }, { ...CELLS[2], loss: 2.5 }], 'en')).toContain(
      'the GRU and the plain RNN are level (2.110 and 2.123',
    );
    expect(cellsCaption(40, [CELLS[0], CELLS[1], { ...CELLS[2], loss: 1.5 }], 'en')).toContain('The largest cell paid for its gates here: the LSTM has 82,944');
  });
  it('says which cell diverged and at which step', () => {
    const caption = cellsCaption(40, [{ ...CELLS[0], loss: Number.NaN, divergedAt: 7 }, CELLS[1], CELLS[2]], 'en');
    expect(caption).toContain("The plain RNN's loss was not finite at step 7");
    expect(caption).toContain('the GRU learned fastest');
  });
});

const CLIP: ClipRun = {
  steps: 30,
  scale: 1.2,
  lr: 0.1,
  maxNorm: 1,
  plain: { losses: [20.9, 2.79e5, 4.53e9, 1.64e77], gradNorms: [300, 4.9e6, 2.9e9, 3.3e78], diverged: { step: 5, loss: Number.NaN } },
  clipped: { losses: [20.9, 12.4, 3.91], gradNorms: [300, 130, 54] },
};

describe('the clipping caption', () => {
  it('says at which step the unclipped run diverged and that the clipped one trained on, with its numbers, in both languages', () => {
    const en = clippingCaption(CLIP, 'en');
    expect(en).toContain('‖g‖ was 300 at step 1 and 3.3e+78 at its largest (step 4)');
    expect(en).toContain('at step 5 the loss was NaN');
    expect(en).toContain(
      'With clipping to c = 1, the same start (‖g‖ 300 at step 1) trained all 3 steps, no update longer than η·c = 0.100, and its loss went from 20.9 to 3.91.',
    );
    const zh = clippingCaption(CLIP, 'zh');
    expect(zh).toContain('到第 5 步损失变成了 NaN');
    expect(english(zh)).toEqual([]);
  });
  it('says when the unclipped run did not diverge, and when the clipped one did too', () => {
    const calm = clippingCaption({ ...CLIP, plain: { losses: [4, 3], gradNorms: [2, 1] } }, 'en');
    expect(calm).toContain('did not diverge in 30 steps (largest ‖g‖ 2.00, loss from 4.00 to 3.00)');
    expect(clippingCaption({ ...CLIP, clipped: { ...CLIP.clipped, diverged: { step: 9, loss: Number.POSITIVE_INFINITY } } }, 'en')).toContain(
      'With clipping to c = 1 the loss was not finite either, at step 9',
    );
  });
});

const OPT: OptimizerResult[] = [
  { id: 'sgd', loss: 3.386, start: 4.683 },
  { id: 'momentum', loss: 3.636, start: 4.683 },
  { id: 'adam', loss: 1.294, start: 4.683 },
  { id: 'rmsprop', loss: 1.539, start: 4.683 },
  { id: 'cosine', loss: 1.337, start: 4.683 },
];

describe('the optimizers caption', () => {
  it('ranks them by the loss after N steps and compares momentum with SGD, cosine with Adam, in both languages', () => {
    const en = optimizersCaption(80, OPT, 'en');
    expect(en).toContain(
      'From the same start (4.683 nats per character at step 1), after 80 steps, lowest loss first: Adam 1.294, Adam with the cosine schedule 1.337, RMSprop 1.539, SGD 3.386, SGD with momentum 3.636.',
    );
    expect(en).toContain('Against plain SGD, momentum ended 0.250 nats higher (3.636 against 3.386).');
    expect(en).toContain('the cosine schedule ended 0.043 nats higher (1.337 against 1.294)');
    const zh = optimizersCaption(80, OPT, 'zh');
    expect(zh).toContain('带动量的 SGD 最终高 0.250 奈特');
    expect(zh.match(/\d+\.\d+/g)).toEqual(en.match(/\d+\.\d+/g));
    expect(english(zh)).toEqual([]);
    expect(optimizersCaption(80, [{ ...OPT[0], loss: 1.3 }, ...OPT.slice(1, 2).map((o) => ({ ...o, loss: 1.31 }))], 'en')).toContain(
      'momentum ended about the same',
    );
  });
  it('says which diverged', () => {
    expect(optimizersCaption(80, [{ ...OPT[0], loss: Number.NaN, divergedAt: 12 }, ...OPT.slice(1)], 'en')).toContain("SGD's loss was not finite at step 12");
  });
});
