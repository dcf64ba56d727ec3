// The trainer's errors a new user met: sizes checked before anything is allocated (LIMIT_EXCEEDED
// naming the tensor and its bytes, on both backends), options that would do nothing or cannot apply
// (dropout with one layer, a forget-gate bias without a forget gate, lr 0), checkFinite on the
// starting weights. Each is one RnnError with its code, raised before any work.
import { describe, expect, it } from 'vitest';
import { RnnError } from '../../src/errors.js';
import { contextFor, requestDevice } from '../../src/gpu/device.js';
import { MAX_CPU_PARAMETERS, createTrainer } from '../../src/train/trainer.js';

const lstm = (hidden: number, extra: object = {}) => ({
  rnn: { mode: 'LSTM' as const, input_size: 3, hidden_size: hidden, ...extra },
  head: { out_features: 2 },
  loss: 'mse' as const,
});

/** The error a call rejects with, and how long it took. */
async function failure(work: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const t0 = performance.now();
  const error = await work().then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - t0 };
}

describe('trainer sizes are checked before anything is allocated', () => {
  it.each(['cpu', 'webgpu'] as const)('hidden_size 100000 on %s: LIMIT_EXCEEDED naming the tensor and its bytes', async (backend) => {
    const { error, ms } = await failure(() => createTrainer({ model: lstm(100_000), backend }));
    expect(error).toBeInstanceOf(RnnError);
    expect(error).toMatchObject({ code: 'LIMIT_EXCEEDED' });
    expect((error as Error).message).toMatch(
      /^model: parameter rnn\.weight_hh_l0 \[400000, 100000\] has 40000000000 elements \(160000000000 bytes as f32, 320000000000 as float64\)/,
    );
    expect(ms).toBeLessThan(5000); // nothing was allocated
  });

  it('hidden_size 30000 on WebGPU: the parameter cap, not an allocation failure', async () => {
    const { error } = await failure(() => createTrainer({ model: lstm(30_000), backend: 'webgpu' }));
    expect(error).toMatchObject({ code: 'LIMIT_EXCEEDED', message: expect.stringMatching(/rnn\.weight_hh_l0 \[120000, 30000\] has 3600000000 elements/) });
  });

  it("a model within the tensor cap but above the device's buffers: LIMIT_EXCEEDED naming the device limit", async () => {
    const device = await requestDevice();
    try {
      const ctx = await contextFor(device);
      ctx.limitOverrides = { maxStorageBufferBindingSize: 1 << 20 };
      const { error } = await failure(() => createTrainer({ model: lstm(300), device }));
      expect(error).toMatchObject({
        code: 'LIMIT_EXCEEDED',
        message: expect.stringMatching(
          /parameters need \d+ bytes of optimizer state in one buffer, above this device's 1048576 \(maxStorageBufferBindingSize\)/,
        ),
      });
    } finally {
      device.destroy();
    }
  });

  it('the CPU backend caps the parameter count (about 64 bytes each)', async () => {
    const hidden = Math.ceil(Math.sqrt(MAX_CPU_PARAMETERS / 4)) + 16; // W_hh alone is above the cap, below the tensor cap
    const { error } = await failure(() => createTrainer({ model: lstm(hidden), backend: 'cpu' }));
    expect(error).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      message: expect.stringMatching(/parameters would need about \d+ bytes on the CPU backend .* use backend "webgpu" or a smaller model/),
    });
  });

  it("a training step whose activations exceed the device's buffers: LIMIT_EXCEEDED naming the buffer, and the trainer goes on", async () => {
    const device = await requestDevice();
    try {
      const ctx = await contextFor(device);
      const trainer = await createTrainer({ model: lstm(8), device });
      ctx.limitOverrides = { maxStorageBufferBindingSize: 1 << 16 };
      const big = { input: { shape: [512, 8, 3], data: new Float32Array(512 * 8 * 3) }, target: { shape: [512, 8, 2], data: new Float32Array(512 * 8 * 2) } };
      const { error } = await failure(() => trainer.trainStep(big));
      expect(error).toMatchObject({
        code: 'LIMIT_EXCEEDED',
        message: expect.stringMatching(/a training step of T=512, B=8: its \S+ needs \d+ bytes, above this device's 65536/),
      });
      ctx.limitOverrides = {};
      const small = { input: { shape: [4, 2, 3], data: new Float32Array(24).fill(0.5) }, target: { shape: [4, 2, 2], data: new Float32Array(16) } };
      expect(Number.isFinite((await trainer.trainStep(small, { readLoss: true })).loss)).toBe(true);
      await trainer.destroy();
    } finally {
      device.destroy();
    }
  });
});

describe('options that would do nothing, or cannot apply, are errors', () => {
  it.each([
    [{ model: lstm(4, { dropout: 0.3 }) }, 'CONFIG_INVALID', /model\.rnn\.dropout: 0\.3 with num_layers 1 would do nothing/],
    [{ model: lstm(4, { recurrent_dropout: 1 }) }, 'CONFIG_INVALID', /recurrent_dropout: expected a number in \[0, 1\), got 1/],
    [{ model: lstm(4, { recurrent_dropout: -0.1 }) }, 'CONFIG_INVALID', /recurrent_dropout: expected a number in \[0, 1\), got -0\.1/],
    [{ model: lstm(4, { recurrent_dropout: '0.2' }) }, 'CONFIG_INVALID', /recurrent_dropout: expected a number in \[0, 1\), got "0\.2"/],
    [
      { model: { ...lstm(4), rnn: { mode: 'GRU', input_size: 3, hidden_size: 4 } }, init: { forgetBias: 1 } },
      'OPTION_INVALID',
      /init\.forgetBias: only an LSTM has a forget gate \(the model's mode is GRU\)/,
    ],
    [{ model: { ...lstm(4), rnn: { mode: 'RNN_TANH', input_size: 3, hidden_size: 4 } }, init: { forgetBias: 1 } }, 'OPTION_INVALID', /mode is RNN_TANH/],
    [{ model: lstm(4), optimizer: { name: 'sgd', lr: 0 } }, 'OPTION_INVALID', /optimizer\.lr: invalid value 0/],
    [{ model: lstm(4), optimizer: { name: 'adam', lr: -1 } }, 'OPTION_INVALID', /optimizer\.lr: invalid value -1/],
    [{ model: lstm(4), checkFinite: 'yes' }, 'OPTION_INVALID', /createTrainer options\.checkFinite: expected true or false, got "yes"/],
  ])('%j', async (options, code, message) => {
    for (const backend of ['cpu', 'webgpu'] as const) {
      const { error } = await failure(() => createTrainer({ backend, ...options } as never));
      expect(error).toMatchObject({ code, message: expect.stringMatching(message) });
    }
  });

  it('dropout with two layers is fine; checkFinite rejects non-finite starting weights, naming them', async () => {
    const two = await createTrainer({ model: lstm(4, { dropout: 0.3, num_layers: 2 }), backend: 'cpu' });
    expect(two.model.rnn.dropout).toBe(0.3);
    const weights = Object.fromEntries(Object.entries(await two.parameters()).map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data) }]));
    weights['rnn.bias_hh_l1'].data[5] = Number.NaN;
    const { error } = await failure(() => createTrainer({ model: two.model, weights, backend: 'cpu', checkFinite: true }));
    expect(error).toMatchObject({ code: 'NON_FINITE', message: expect.stringMatching(/^weights rnn\.bias_hh_l1: element 5 is NaN/) });
  });
});
