// The ONNX exports (src/onnx/write.ts) run by ONNX Runtime (its WebAssembly build, the independent
// reference) and by loadOnnx on both backends, against this library's own forward:
//  - exportRnnOnnx: every mode, 1–3 layers, both directions, batch_first, h0 / c0 inputs, lengths, no
//    bias — ORT's outputs equal the float64 CPU forward's within f32 rounding;
//  - exportModelOnnx: the training API's models (an embedding language model, an h_n classifier with
//    lengths, a regressor without a head) — ORT's output equals trainer.predict's;
//  - the files' structure (names, dynamic axes, operators, opset) and the clear errors for what ONNX
//    cannot express.
import { describe, expect, it } from 'vitest';
import { type RnnConfigInput, resolveConfig } from '../../src/config.js';
import { RnnError } from '../../src/errors.js';
import { loadOnnx } from '../../src/onnx/model.js';
import { DataType, decodeModel, encodeModel } from '../../src/onnx/schema.js';
import { EXPORT_OPSET, exportModelOnnx, exportRnnOnnx } from '../../src/onnx/write.js';
import { createRnn } from '../../src/rnn.js';
import type { IntTensor, Tensor } from '../../src/tensor.js';
import type { ModelConfigInput } from '../../src/train/config.js';
import { createTrainer } from '../../src/train/trainer.js';
import { GPU_RTOL, expectClose } from '../support/compare.js';
import { randomCase, randomWeights, rng } from '../support/random.js';
import { runOrt } from '../support/ort.js';

/** ORT computes in float32 from the file's float32 weights; the truth is float64 from the same weights. */
const ORT_RTOL = 1e-5;
/** loadOnnx on the CPU backend: float64 throughout, outputs rounded to float32 once. */
const CPU_ONNX_RTOL = 1e-6;

interface RnnCase {
  name: string;
  config: RnnConfigInput;
  T: number;
  B: number;
  h0?: boolean;
  lengths?: boolean;
}

const RNN_CASES: RnnCase[] = [
  { name: 'RNN tanh, h0', config: { mode: 'RNN_TANH', input_size: 3, hidden_size: 5 }, T: 6, B: 3, h0: true },
  {
    name: 'RNN relu, 2 layers, bidirectional, batch_first',
    config: { mode: 'RNN_RELU', input_size: 3, hidden_size: 5, num_layers: 2, bidirectional: true, batch_first: true },
    T: 5,
    B: 2,
  },
  { name: 'LSTM, zero states', config: { mode: 'LSTM', input_size: 1, hidden_size: 17 }, T: 4, B: 1 },
  {
    name: 'LSTM, 2 layers, bidirectional, h0 c0, lengths',
    config: { mode: 'LSTM', input_size: 3, hidden_size: 5, num_layers: 2, bidirectional: true },
    T: 6,
    B: 3,
    h0: true,
    lengths: true,
  },
  {
    name: 'LSTM, 3 layers, batch_first, no bias, h0 c0',
    config: { mode: 'LSTM', input_size: 4, hidden_size: 3, num_layers: 3, batch_first: true, bias: false },
    T: 5,
    B: 3,
    h0: true,
  },
  { name: 'GRU, bidirectional', config: { mode: 'GRU', input_size: 3, hidden_size: 5, bidirectional: true }, T: 7, B: 2 },
  {
    name: 'GRU, 2 layers, batch_first, h0, lengths',
    config: { mode: 'GRU', input_size: 2, hidden_size: 6, num_layers: 2, batch_first: true },
    T: 6,
    B: 4,
    h0: true,
    lengths: true,
  },
  { name: 'GRU, no bias, 1 step', config: { mode: 'GRU', input_size: 3, hidden_size: 4, bias: false }, T: 1, B: 2 },
];

const r0 = (c: RnnCase) => resolveConfig(c.config);

/** The case's feeds by graph input name, and the engine's float64 forward as the truth. */
async function rnnCase(c: RnnCase, seed: number) {
  const r = randomCase(c.config, seed, { T: c.T, B: c.B, h0: c.h0, lengths: c.lengths });
  const bytes = await exportRnnOnnx(r.config, r.weights, { initialStates: !!c.h0, lengths: !!c.lengths });
  const feeds: Record<string, Tensor | IntTensor> = { input: r.input };
  if (r.h0) feeds.h0 = r.h0;
  if (r.c0) feeds.c0 = r.c0;
  if (r.lengths) feeds.lengths = { shape: [c.B], data: r.lengths };
  const reference = await createRnn({ config: r.config, weights: r.weights, backend: 'cpu' });
  const truth = await reference.forward(r.input, { h0: r.h0, c0: r.c0, lengths: r.lengths });
  reference.destroy();
  const expected: Record<string, Tensor> = { output: truth.output, h_n: truth.h_n, ...(truth.c_n ? { c_n: truth.c_n } : {}) };
  return { bytes, feeds, expected };
}

describe('exportRnnOnnx: ONNX Runtime and loadOnnx run the file like the module', () => {
  it.each(RNN_CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const { bytes, feeds, expected } = await rnnCase(c, 300 + i);
    const ort = await runOrt(bytes, feeds, ['lengths']);
    expect(Object.keys(ort).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, truth] of Object.entries(expected)) expectClose(`ORT ${name}`, ort[name], truth, ORT_RTOL);
    for (const backend of ['cpu', 'webgpu'] as const) {
      const model = await loadOnnx(bytes, { backend });
      try {
        expect(model.placement.every((p) => p.runsOn === backend)).toBe(true);
        const L = r0(c).num_layers;
        expect(model.placement.map((p) => p.stack)).toEqual(L > 1 ? Array.from({ length: L }, (_, layer) => ({ layer, layers: L })) : [undefined]);
        const out = await model.run(feeds);
        for (const [name, truth] of Object.entries(expected))
          expectClose(`loadOnnx ${backend} ${name}`, out[name] as Tensor, truth, backend === 'cpu' ? CPU_ONNX_RTOL : GPU_RTOL);
      } finally {
        model.destroy();
      }
    }
  });

  it('a file exported at one size runs at others (dynamic seq and batch)', async () => {
    const config = resolveConfig({ mode: 'GRU', input_size: 3, hidden_size: 5, num_layers: 2 });
    const weights = randomWeights(config, rng(5));
    const bytes = await exportRnnOnnx(config, weights, { initialStates: false });
    const reference = await createRnn({ config, weights, backend: 'cpu' });
    const model = await loadOnnx(bytes, { backend: 'cpu' });
    try {
      for (const [T, B] of [
        [1, 1],
        [9, 4],
        [3, 17],
      ]) {
        const input = randomCase(config, T * 100 + B, { T, B }).input;
        const truth = (await reference.forward(input)).output;
        expectClose(`ORT T=${T} B=${B}`, (await runOrt(bytes, { input })).output, truth, ORT_RTOL);
        expectClose(`loadOnnx T=${T} B=${B}`, (await model.run({ input })).output as Tensor, truth, CPU_ONNX_RTOL);
      }
    } finally {
      model.destroy();
      reference.destroy();
    }
  });

  it('a stack of layers with a zero length in the batch runs node by node on the float64 path, as ONNX Runtime does', async () => {
    const config = resolveConfig({ mode: 'GRU', input_size: 3, hidden_size: 4, num_layers: 2, bidirectional: true });
    const r = randomCase(config, 11, { T: 5, B: 3 });
    const bytes = await exportRnnOnnx(config, r.weights, { initialStates: false, lengths: true });
    const feeds = { input: r.input, lengths: { shape: [3], data: Int32Array.of(5, 0, 3) } };
    const truth = await runOrt(bytes, feeds, ['lengths']);
    const model = await loadOnnx(bytes, { backend: 'webgpu' });
    try {
      expect(model.placement.map((p) => p.stack?.layers)).toEqual([2, 2]);
      const out = await model.run(feeds);
      for (const name of ['output', 'h_n']) expectClose(`zero length ${name}`, out[name] as Tensor, truth[name], ORT_RTOL);
      // and the next run, without a zero, as one model again
      const full = { input: r.input, lengths: { shape: [3], data: Int32Array.of(5, 1, 3) } };
      expectClose('after it', (await model.run(full)).output as Tensor, (await runOrt(bytes, full, ['lengths'])).output, GPU_RTOL);
    } finally {
      model.destroy();
    }
  });

  it('layers whose intermediate output is also read elsewhere stay separate nodes, with the same numbers', async () => {
    const config = resolveConfig({ mode: 'LSTM', input_size: 3, hidden_size: 5, num_layers: 2 });
    const r = randomCase(config, 12, { T: 4, B: 2 });
    const m = await decodeModel(await exportRnnOnnx(config, r.weights, { initialStates: false }));
    // The first layer's Y becomes a graph output too: it must exist, so the layers cannot run as one.
    const y0 = m.graph!.node!.find((n) => n.op_type === 'LSTM')!.output![0];
    m.graph!.output!.push({ name: y0, type: { tensor_type: { elem_type: DataType.FLOAT } } });
    const bytes = await encodeModel(m);
    const model = await loadOnnx(bytes, { backend: 'webgpu' });
    try {
      expect(model.placement.map((p) => [p.runsOn, p.stack])).toEqual([
        ['webgpu', undefined],
        ['webgpu', undefined],
      ]);
      const [out, truth] = [await model.run({ input: r.input }), await runOrt(bytes, { input: r.input })];
      for (const name of ['output', 'h_n', 'c_n', y0]) expectClose(name, out[name] as Tensor, truth[name], GPU_RTOL);
    } finally {
      model.destroy();
    }
  });

  it('names inputs and outputs as PyTorch does, with dynamic axes, one recurrent node per layer, opset 14', async () => {
    const config = resolveConfig({ mode: 'GRU', input_size: 3, hidden_size: 5, num_layers: 2, bidirectional: true, batch_first: true });
    const m = await decodeModel(await exportRnnOnnx(config, randomWeights(config, rng(1)), { lengths: true }));
    expect(m.opset_import).toEqual([{ domain: '', version: EXPORT_OPSET }]);
    expect(EXPORT_OPSET).toBe(14);
    const dims = (v: { type?: { tensor_type?: { shape?: { dim?: Array<{ dim_value?: number; dim_param?: string }> } } } }) =>
      v.type!.tensor_type!.shape!.dim!.map((d) => d.dim_param ?? d.dim_value);
    expect(m.graph!.input!.map((v) => [v.name, dims(v)])).toEqual([
      ['input', ['batch', 'seq', 3]],
      ['h0', [4, 'batch', 5]],
      ['lengths', ['batch']],
    ]);
    expect(m.graph!.output!.map((v) => [v.name, dims(v)])).toEqual([
      ['output', ['batch', 'seq', 10]],
      ['h_n', [4, 'batch', 5]],
    ]);
    const grus = m.graph!.node!.filter((n) => n.op_type === 'GRU');
    expect(grus).toHaveLength(2);
    const attrs = Object.fromEntries(grus[0].attribute!.map((a) => [a.name, a.i ?? new TextDecoder().decode(a.s)]));
    // linear_before_reset = 1 is PyTorch's GRU (r multiplies W_hn h + b_hn).
    expect(attrs).toEqual({ hidden_size: 5, direction: 'bidirectional', linear_before_reset: 1 });
    expect(grus[0].input![4]).toBe('lengths');
  });

  it('says what ONNX cannot express and what is wrong with the weights or options', async () => {
    const proj = resolveConfig({ mode: 'LSTM', input_size: 3, hidden_size: 5, proj_size: 2 });
    await expect(exportRnnOnnx(proj, randomWeights(proj, rng(1)))).rejects.toThrow(/proj_size has no ONNX equivalent/);
    const lstm = resolveConfig({ mode: 'LSTM', input_size: 3, hidden_size: 5 });
    await expect(exportRnnOnnx(lstm, {})).rejects.toMatchObject({ code: 'WEIGHTS_INVALID', message: expect.stringMatching(/missing tensor weight_ih_l0/) });
    await expect(exportRnnOnnx(lstm, null as never)).rejects.toMatchObject({ code: 'WEIGHTS_INVALID' });
    await expect(exportRnnOnnx(lstm, randomWeights(lstm, rng(1)), { lenghts: true } as never)).rejects.toMatchObject({
      code: 'OPTION_INVALID',
      message: expect.stringMatching(/lenghts/),
    });
    await expect(exportModelOnnx({ rnn: { mode: 'GRU', input_size: 2, hidden_size: 3 }, loss: 'mse' }, {})).rejects.toBeInstanceOf(RnnError);
  });
});

interface ModelCase {
  name: string;
  model: ModelConfigInput;
  T: number;
  B: number;
  lengths?: number[];
}

const MODEL_CASES: ModelCase[] = [
  {
    name: 'character language model: embedding → 2-layer LSTM → head on every step',
    model: {
      embedding: { num_embeddings: 11, embedding_dim: 4 },
      rnn: { mode: 'LSTM', input_size: 4, hidden_size: 6, num_layers: 2, dropout: 0.3 },
      head: { out_features: 11, on: 'output' },
      loss: 'cross_entropy',
    },
    T: 5,
    B: 3,
  },
  {
    name: 'sequence classifier: bidirectional batch_first GRU → head on h_n, with lengths',
    model: {
      rnn: { mode: 'GRU', input_size: 3, hidden_size: 5, bidirectional: true, batch_first: true },
      head: { out_features: 4, on: 'h_n' },
      loss: 'cross_entropy',
    },
    T: 6,
    B: 3,
    lengths: [6, 2, 4],
  },
  {
    name: 'regressor without a head: RNN tanh, batch_first',
    model: { rnn: { mode: 'RNN_TANH', input_size: 2, hidden_size: 3, batch_first: true }, loss: 'mse' },
    T: 4,
    B: 2,
  },
];

describe("exportModelOnnx: ONNX Runtime runs the trained model's file to trainer.predict's output", () => {
  it.each(MODEL_CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const trainer = await createTrainer({ model: c.model, backend: 'cpu', init: { seed: 40 + i } });
    try {
      const rnn = trainer.model.rnn;
      const lead = rnn.batch_first ? [c.B, c.T] : [c.T, c.B];
      const next = rng(70 + i);
      const feeds: Record<string, Tensor | IntTensor> = {};
      const count = c.T * c.B;
      if (trainer.model.embedding) {
        feeds.tokens = { shape: lead, data: Int32Array.from({ length: count }, () => Math.floor(next() * trainer.model.embedding!.num_embeddings)) };
      } else {
        feeds.input = { shape: [...lead, rnn.input_size], data: Float32Array.from({ length: count * rnn.input_size }, () => 2 * next() - 1) };
      }
      const lengths = c.lengths ? { shape: [c.B], data: Int32Array.from(c.lengths) } : undefined;
      const truth = await trainer.predict({ ...(feeds.tokens ? { tokens: feeds.tokens as IntTensor } : { input: feeds.input as Tensor }), lengths });
      if (lengths) feeds.lengths = lengths;
      const bytes = await exportModelOnnx(trainer.model, await trainer.parameters(), { lengths: !!lengths });
      expectClose('ORT output', (await runOrt(bytes, feeds, ['lengths'])).output, truth, ORT_RTOL);
      // The safetensors file trainer.stateDict() writes exports the same graph.
      expect(await exportModelOnnx(trainer.model, await trainer.stateDict(), { lengths: !!lengths })).toEqual(bytes);
      for (const backend of ['cpu', 'webgpu'] as const) {
        const model = await loadOnnx(bytes, { backend });
        try {
          expectClose(`loadOnnx ${backend} output`, (await model.run(feeds)).output as Tensor, truth, backend === 'cpu' ? CPU_ONNX_RTOL : GPU_RTOL);
        } finally {
          model.destroy();
        }
      }
    } finally {
      await trainer.destroy();
    }
  });
});

describe('a loaded model under any call order', () => {
  it('concurrent runs each get their own numbers; a run in flight at destroy() finishes right or rejects, later runs reject with DESTROYED', async () => {
    const config = { mode: 'LSTM' as const, input_size: 3, hidden_size: 5, num_layers: 2 };
    const a = randomCase(config, 1, { T: 6, B: 2 });
    const b = randomCase(config, 2, { T: 9, B: 3 });
    const reference = await createRnn({ config: a.config, weights: a.weights, backend: 'cpu' });
    const model = await loadOnnx(await exportRnnOnnx(a.config, a.weights, { initialStates: false }), { backend: 'webgpu' });
    try {
      const [ra, rb] = await Promise.all([model.run({ input: a.input }), model.run({ input: b.input })]);
      expectClose('first of two concurrent runs', ra.output as Tensor, (await reference.forward(a.input)).output, GPU_RTOL);
      expectClose('second of two concurrent runs', rb.output as Tensor, (await reference.forward(b.input)).output, GPU_RTOL);
      // A run already on the GPU when destroy() comes may finish (with the right numbers) or reject
      // with DESTROYED; it never gives other numbers. Runs after it always reject.
      const inFlight = model.run({ input: a.input }).then(
        (r) => r,
        (e: unknown) => e,
      );
      model.destroy();
      const settled = await inFlight;
      if (settled instanceof Error) expect(settled).toMatchObject({ code: 'DESTROYED' });
      else expectClose('a run in flight at destroy()', (settled as Record<string, Tensor>).output, (await reference.forward(a.input)).output, GPU_RTOL);
      await expect(model.run({ input: a.input })).rejects.toMatchObject({ code: 'DESTROYED' });
      model.destroy(); // twice is fine
    } finally {
      reference.destroy();
    }
  });
});
