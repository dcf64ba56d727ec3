// The training step of the benchmark's models takes the small kernels' vec4 entries (a structural check,
// not a timing): their widths and the plan's offsets are multiples of 4, and a layout change that broke
// that would fall back to the scalar entries — correct, but several times slower on a software adapter
// (the README's benchmark notes) — without failing anything else. On any adapter: the entries are the
// same on a GPU, only their vec4s per invocation differ.
import { describe, expect, it } from 'vitest';
import { kernelOf } from '../../src/bench/dispatch-profile.js';
import { captureDispatches } from '../../src/bench/instrument.js';
import { makeTrainWorkload } from '../../src/bench/train.js';
import { TRAIN_SHAPES } from '../../src/bench/train-shapes.js';
import { getDefaultDevice } from '../../src/gpu/device.js';
import { createTrainer } from '../../src/train/trainer.js';

// The benchmark's models at a smaller batch (the widths are what decide the entries), with positions
// enough that the recurrent layers still take the embeddings' tables (vocabularies under half of them).
const EXPECTED: Record<string, { at: { B: number; T: number; S?: number }; tables: string[]; vec4: string[]; scalar: string[] }> = {
  'train-char-lm': {
    at: { B: 8, T: 20 },
    tables: ['embedding.output'],
    vec4: ['embedding/gather_vec4', 'embedding/scatter_grad_vec4', 'shift/shift_vec4', 'reduce/reduce_vec4'],
    scalar: ['embedding/gather', 'embedding/scatter_grad', 'shift/shift'],
  },
  'train-date-attention': {
    at: { B: 8, T: 10, S: 12 },
    tables: ['source_embedding.output', 'target_embedding.output'],
    vec4: [
      'embedding/gather_vec4',
      'embedding/scatter_grad_vec4',
      'shift/shift_vec4',
      'reduce/reduce_vec4',
      'tanh/tanh_forward_vec4',
      'tanh/tanh_backward_vec4',
      'attention/attend_context_vec4',
      'attention/back_keys_vec4',
    ],
    scalar: ['embedding/gather', 'embedding/scatter_grad', 'shift/shift', 'tanh/tanh_forward', 'tanh/tanh_backward', 'attention/attend_context'],
  },
};

describe('the training step takes the vec4 entries', () => {
  it.each(Object.keys(EXPECTED))('%s', async (name) => {
    const shape = { ...TRAIN_SHAPES.find((s) => s.name === name)!, ...EXPECTED[name].at };
    const wl = makeTrainWorkload(shape);
    const trainer = await createTrainer({ model: wl.model, weights: wl.params, device: await getDefaultDevice() });
    try {
      const { dispatches } = await captureDispatches(() => trainer.trainStep(wl.batch));
      expect(trainer.diagnostics()?.plans[0].tablesTaken).toEqual(EXPECTED[name].tables);
      const kernels = new Set(dispatches.map((d) => kernelOf(d.pipeline.label)));
      for (const k of EXPECTED[name].vec4) expect(kernels.has(k), `${k} in ${[...kernels].join(', ')}`).toBe(true);
      for (const k of EXPECTED[name].scalar) expect(kernels.has(k), `${k} (the scalar entry)`).toBe(false);
    } finally {
      await trainer.destroy();
    }
  });
});
