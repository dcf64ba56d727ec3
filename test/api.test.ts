// The public API's contract: PyTorch-named configuration, weight checks, input checks with clear
// errors, unbatched input, streams, and that a rejected call leaves a model (and its GPU state) intact.
import { describe, expect, it } from 'vitest';
import { diagnostics } from '../src/diagnostics.js';
import { resolveConfig } from '../src/config.js';
import { checkWeights, parameterSpecs, stripCommonPrefix } from '../src/params.js';
import { createRnn } from '../src/rnn.js';
import { writeSafetensors } from '../src/safetensors.js';
import type { Tensor } from '../src/tensor.js';
import { CPU_RTOL, GPU_RTOL, expectClose } from './support/compare.js';
import { randomCase, randomWeights, rng } from './support/random.js';

describe('resolveConfig', () => {
  it("fills PyTorch's defaults", () => {
    expect(resolveConfig({ mode: 'GRU', input_size: 3, hidden_size: 4 })).toEqual({
      mode: 'GRU',
      input_size: 3,
      hidden_size: 4,
      num_layers: 1,
      bias: true,
      batch_first: false,
      dropout: 0,
      recurrent_dropout: 0,
      bidirectional: false,
      proj_size: 0,
    });
    expect(resolveConfig({ mode: 'RNN', nonlinearity: 'relu', input_size: 1, hidden_size: 1 }).mode).toBe('RNN_RELU');
    expect(resolveConfig({ mode: 'RNN', input_size: 1, hidden_size: 1 }).mode).toBe('RNN_TANH');
  });
  it.each([
    [{ mode: 'GRU', input_size: 3, hidden_size: 4, hidden: 2 }, /unknown key\(s\) "hidden"/],
    [{ mode: 'Lstm', input_size: 3, hidden_size: 4 }, /config.mode: expected one of/],
    [{ mode: 'GRU', input_size: 0, hidden_size: 4 }, /config.input_size: expected a positive integer, got 0/],
    [{ mode: 'GRU', input_size: 3, hidden_size: 4, proj_size: 2 }, /only LSTM supports proj_size/],
    [{ mode: 'LSTM', input_size: 3, hidden_size: 4, proj_size: 4 }, /must be smaller than hidden_size/],
    [{ mode: 'LSTM', input_size: 3, hidden_size: 4, bias: 'yes' }, /config.bias: expected true or false/],
    [{ mode: 'RNN_TANH', nonlinearity: 'relu', input_size: 3, hidden_size: 4 }, /contradicts mode RNN_TANH/],
    [{ mode: 'GRU', input_size: 3, hidden_size: 4, dropout: 2 }, /config.dropout/],
  ])('rejects %j', (config, message) => {
    expect(() => resolveConfig(config as never)).toThrow(message);
  });
});

describe('weights', () => {
  const config = resolveConfig({ mode: 'LSTM', input_size: 3, hidden_size: 4, proj_size: 2, num_layers: 2, bidirectional: true });

  it("lists PyTorch's parameter names and shapes", () => {
    const specs = parameterSpecs(config);
    expect(specs.slice(0, 5).map((s) => `${s.name}${JSON.stringify(s.shape)}`)).toEqual([
      'weight_ih_l0[16,3]',
      'weight_hh_l0[16,2]',
      'bias_ih_l0[16]',
      'bias_hh_l0[16]',
      'weight_hr_l0[2,4]',
    ]);
    expect(specs.find((s) => s.name === 'weight_ih_l1_reverse')!.shape).toEqual([16, 4]);
    expect(specs).toHaveLength(20);
  });

  it('reports every missing, unexpected and mis-shaped tensor at once', () => {
    const weights: Record<string, Tensor> = { ...randomWeights(config, rng(1)) };
    delete weights.bias_hh_l1;
    weights.weight_hr_l0_reverse = { shape: [4, 2], data: new Float32Array(8) };
    weights.extra = { shape: [1], data: new Float32Array(1) };
    expect(() => checkWeights(config, weights)).toThrow(
      /tensor weight_hr_l0_reverse: expected shape \[2, 4\], got \[4, 2\][\s\S]*missing tensor bias_hh_l1 \(expected shape \[16\]\)[\s\S]*unexpected tensor extra/,
    );
  });

  it('accepts a state_dict saved from a parent module (common dotted prefix)', () => {
    const weights = randomWeights(config, rng(2));
    const prefixed = Object.fromEntries(Object.entries(weights).map(([k, v]) => [`encoder.rnn.${k}`, v]));
    expect(Object.keys(stripCommonPrefix(config, prefixed))).toEqual(Object.keys(weights));
  });

  it('builds a model from safetensors bytes', async () => {
    const c = randomCase({ mode: 'GRU', input_size: 2, hidden_size: 3 }, 5, { T: 4, B: 2 });
    const fromBytes = await createRnn({ config: c.config, weights: writeSafetensors(c.weights), backend: 'cpu' });
    const fromTensors = await createRnn({ config: c.config, weights: c.weights, backend: 'cpu' });
    expect((await fromBytes.forward(c.input)).output.data).toEqual((await fromTensors.forward(c.input)).output.data);
  });
});

describe('forward inputs', () => {
  const c = randomCase({ mode: 'LSTM', input_size: 3, hidden_size: 4, num_layers: 2 }, 7, { T: 5, B: 2, h0: true });

  it.each([
    ['a 1-D input', { input: { shape: [15], data: new Float32Array(15) } }, /input: expected a 3-D tensor \[T, B, input_size\]/],
    ['a wrong feature size', { input: { shape: [5, 2, 4], data: new Float32Array(40) } }, /input: last dimension must be input_size=3, got shape \[5, 2, 4\]/],
    ['data shorter than the shape', { input: { shape: [5, 2, 3], data: new Float32Array(29) } }, /input: shape \[5, 2, 3\] holds 30 elements, data has 29/],
    ['a mis-shaped h0', { h0: { shape: [2, 2, 3], data: new Float32Array(12) } }, /h0: expected shape \[2, 2, 4\], got \[2, 2, 3\]/],
    ['a mis-shaped c0', { c0: { shape: [1, 2, 4], data: new Float32Array(8) } }, /c0: expected shape \[2, 2, 4\], got \[1, 2, 4\]/],
    ['a zero length', { lengths: [0, 5] }, /lengths\[0\] = 0: each length must be an integer in \[1, T=5\]/],
    ['a length past T', { lengths: [6, 5] }, /lengths\[0\] = 6/],
    ['too few lengths', { lengths: [5] }, /lengths: expected 2 entries/],
  ] as const)('rejects %s with a message naming it', async (_what, change, message) => {
    const rnn = await createRnn({ config: c.config, weights: c.weights, backend: 'cpu' });
    const { input, ...options } = { input: c.input, h0: c.h0, c0: c.c0, ...change } as { input: Tensor; h0?: Tensor; c0?: Tensor; lengths?: number[] };
    await expect(rnn.forward(input, options)).rejects.toThrow(message);
  });

  it('rejects c0 for a GRU', async () => {
    const g = randomCase({ mode: 'GRU', input_size: 3, hidden_size: 4 }, 8, { T: 2, B: 1 });
    const rnn = await createRnn({ config: g.config, weights: g.weights, backend: 'cpu' });
    await expect(rnn.forward(g.input, { c0: { shape: [1, 1, 4], data: new Float32Array(4) } })).rejects.toThrow(/c0: only LSTM has a cell state/);
  });

  it('refuses a shape that would allocate without bound, before looking at its data', async () => {
    const rnn = await createRnn({ config: c.config, weights: c.weights, backend: 'cpu' });
    // T·B·16 (4·hidden_size, the widest row) is 2^28 + 16: one row past the cap. The data is short on
    // purpose: the cap is checked first, so the data-length check cannot be what rejects it.
    const huge = { shape: [(1 << 24) + 1, 1, 3], data: new Float32Array(3) };
    await expect(rnn.forward(huge)).rejects.toMatchObject({
      code: 'LIMIT_EXCEEDED',
      message: expect.stringMatching(/too large \(T·B·features = 268435472, above 268435456\)/),
    });
    const atCap = { shape: [1 << 24, 1, 3], data: new Float32Array(3) };
    await expect(rnn.forward(atCap)).rejects.toMatchObject({ code: 'TENSOR_INVALID', message: expect.stringMatching(/holds 50331648 elements, data has 3/) });
  });

  it('takes unbatched [T, I] input like PyTorch (h_n without the batch axis)', async () => {
    const rnn = await createRnn({ config: c.config, weights: c.weights, backend: 'cpu' });
    const row0 = { shape: [5, 1, 3], data: Float32Array.from({ length: 15 }, (_, i) => c.input.data[Math.floor(i / 3) * 6 + (i % 3)]) };
    const batched = await rnn.forward(row0);
    const unbatched = await rnn.forward({ shape: [5, 3], data: row0.data });
    expect(unbatched.output.shape).toEqual([5, 4]);
    expect(unbatched.h_n.shape).toEqual([2, 4]);
    expect(unbatched.c_n!.shape).toEqual([2, 4]);
    expect(unbatched.output.data).toEqual(batched.output.data);
  });
});

describe('CPU streams', () => {
  it('chunks give the same outputs and state as one forward, also with lengths', async () => {
    const c = randomCase({ mode: 'LSTM', input_size: 2, hidden_size: 3, num_layers: 2 }, 9, { T: 7, B: 2, h0: true });
    const rnn = await createRnn({ config: c.config, weights: c.weights, backend: 'cpu' });
    const lengths = [7, 5];
    const whole = await rnn.forward(c.input, { h0: c.h0, c0: c.c0, lengths });
    const stream = rnn.stream({ batch: 2, h0: c.h0, c0: c.c0 });
    const F = 2 * 2; // B·I per time step
    const a = await stream.push({ shape: [4, 2, 2], data: c.input.data.slice(0, 4 * F) }, { lengths: [4, 4] });
    const b = await stream.push({ shape: [3, 2, 2], data: c.input.data.slice(4 * F) }, { lengths: [3, 1] });
    const out = new Float64Array([...a!.data, ...b!.data]);
    expectClose('output', { shape: whole.output.shape, data: out }, whole.output, CPU_RTOL);
    const state = await stream.state();
    expectClose('h_n', state.h_n, whole.h_n, CPU_RTOL);
    expectClose('c_n', state.c_n, whole.c_n!, CPU_RTOL);
  });

  it('refuses a bidirectional model and a chunk of the wrong batch', async () => {
    const bi = randomCase({ mode: 'GRU', input_size: 2, hidden_size: 3, bidirectional: true }, 10, { T: 3, B: 1 });
    const rnn = await createRnn({ config: bi.config, weights: bi.weights, backend: 'cpu' });
    expect(() => rnn.stream()).toThrow(/bidirectional model needs the whole sequence/);
    const uni = randomCase({ mode: 'GRU', input_size: 2, hidden_size: 3 }, 11, { T: 3, B: 2 });
    const s = (await createRnn({ config: uni.config, weights: uni.weights, backend: 'cpu' })).stream({ batch: 1 });
    await expect(s.push(uni.input)).rejects.toThrow(/expected batch 1 \(the stream's\), got shape \[3, 2, 2\]/);
  });
});

describe('WebGPU model robustness', () => {
  it('a rejected call leaves the model and a stream state intact', async () => {
    const c = randomCase({ mode: 'GRU', input_size: 3, hidden_size: 5 }, 12, { T: 6, B: 2, h0: true });
    const gpu = await createRnn({ config: c.config, weights: c.weights });
    const cpu = await createRnn({ config: c.config, weights: c.weights, backend: 'cpu' });
    await expect(gpu.forward(c.input, { h0: { shape: [1, 2, 4], data: new Float32Array(8) } })).rejects.toThrow(/h0: expected shape/);
    expectClose('output', (await gpu.forward(c.input, { h0: c.h0 })).output, (await cpu.forward(c.input, { h0: c.h0 })).output, GPU_RTOL);

    const stream = gpu.stream({ batch: 2, h0: c.h0 });
    const half = (k: number) => ({ shape: [3, 2, 3], data: c.input.data.slice(k * 18, (k + 1) * 18) });
    await stream.push(half(0), { read: false });
    await expect(stream.push({ shape: [3, 2, 2], data: new Float32Array(12) })).rejects.toThrow(/input_size=3/);
    await stream.push(half(1), { read: false });
    expectClose('h_n', (await stream.state()).h_n, (await cpu.forward(c.input, { h0: c.h0 })).h_n, GPU_RTOL);
    stream.close();
    await expect(stream.push(half(0))).rejects.toThrow(/the stream was closed/);
    gpu.destroy();
    await expect(gpu.forward(c.input)).rejects.toThrow(/the model was destroyed/);
  });

  it('keeps a bounded number of plans and stays correct across many shapes and concurrent calls', async () => {
    const c = randomCase({ mode: 'LSTM', input_size: 2, hidden_size: 3 }, 13, { T: 9, B: 2 });
    const gpu = await createRnn({ config: c.config, weights: c.weights });
    const cpu = await createRnn({ config: c.config, weights: c.weights, backend: 'cpu' });
    const prefixes = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((T) => ({ shape: [T, 2, 2], data: c.input.data.slice(0, T * 4) }));
    const results = await Promise.all(prefixes.map((x) => gpu.forward(x)));
    expect(diagnostics(gpu).gpu!.plans).toBeLessThanOrEqual(4);
    for (const [i, x] of prefixes.entries()) expectClose(`output T=${i + 1}`, results[i].output, (await cpu.forward(x)).output, GPU_RTOL);
    gpu.destroy();
  });
});
