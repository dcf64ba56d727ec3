// The API's error contract as a table of bad calls: each must fail with an RnnError of the listed code
// whose message names what is at fault — never a raw TypeError, never silently — and leave the model
// (and an open stream) exactly as it was: after every bad call the model still matches the CPU
// reference. Every row runs on both backends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RnnConfigInput } from '../src/config.js';
import { RnnError, type RnnErrorCode } from '../src/errors.js';
import { type Rnn, type RnnStream, createRnn } from '../src/rnn.js';
import { writeSafetensors } from '../src/safetensors.js';
import type { Tensor } from '../src/tensor.js';
import { GPU_RTOL, expectClose } from './support/compare.js';
import { type RandomCase, randomCase } from './support/random.js';

const LSTM: RnnConfigInput = { mode: 'LSTM', input_size: 3, hidden_size: 5, num_layers: 2, proj_size: 2 };
const GRU_BI: RnnConfigInput = { mode: 'GRU', input_size: 3, hidden_size: 4, bidirectional: true };
const T = 4;
const B = 2;

const lstm = randomCase(LSTM, 31, { T, B, h0: true, lengths: true });
const gruBi = randomCase(GRU_BI, 32, { T, B });
const f32 = (shape: number[], fill = 0.1): Tensor => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill) });

/** What a bad call gets to work with: the models, an open stream, and the good inputs to spoil. */
interface Ctx {
  backend: 'webgpu' | 'cpu';
  model: Rnn;
  stream: RnnStream;
  c: RandomCase;
  create(extra: Record<string, unknown>): Promise<Rnn>;
}

type Row = [name: string, code: RnnErrorCode, call: (ctx: Ctx) => unknown, message?: RegExp];

const base = () => ({ config: lstm.config, weights: lstm.weights });

const CREATE: Row[] = [
  ['createRnn(null)', 'OPTION_INVALID', () => createRnn(null as never), /createRnn options: expected an object, got null/],
  ['createRnn("LSTM")', 'OPTION_INVALID', () => createRnn('LSTM' as never), /got "LSTM"/],
  [
    'an unknown option (backnd)',
    'OPTION_INVALID',
    (x) => x.create({ backnd: 'cpu' }),
    /unknown option\(s\) "backnd"; known options are config, weights, backend/,
  ],
  ['no config', 'OPTION_INVALID', () => createRnn({ weights: lstm.weights } as never), /options.config: missing/],
  ['no weights', 'OPTION_INVALID', () => createRnn({ config: LSTM } as never), /options.weights: missing/],
  [
    'config null',
    'CONFIG_INVALID',
    () => createRnn({ config: null as never, weights: {} }),
    /config: expected an object of PyTorch constructor arguments, got null/,
  ],
  ['config an array', 'CONFIG_INVALID', () => createRnn({ config: [] as never, weights: {} })],
  ['config with an unknown key', 'CONFIG_INVALID', () => createRnn({ config: { ...LSTM, hidden: 3 } as never, weights: {} }), /unknown key\(s\) "hidden"/],
  ['mode "Lstm"', 'CONFIG_INVALID', () => createRnn({ config: { ...LSTM, mode: 'Lstm' } as never, weights: {} }), /config.mode: expected one of/],
  ['mode a number', 'CONFIG_INVALID', () => createRnn({ config: { ...LSTM, mode: 2 } as never, weights: {} })],
  [
    'nonlinearity that contradicts the mode',
    'CONFIG_INVALID',
    () => createRnn({ config: { mode: 'RNN_TANH', nonlinearity: 'relu', input_size: 1, hidden_size: 1 }, weights: {} }),
  ],
  [
    'nonlinearity "sigmoid"',
    'CONFIG_INVALID',
    () => createRnn({ config: { mode: 'RNN', nonlinearity: 'sigmoid', input_size: 1, hidden_size: 1 } as never, weights: {} }),
  ],
  [
    'input_size 0',
    'CONFIG_INVALID',
    () => createRnn({ config: { ...LSTM, input_size: 0 }, weights: {} }),
    /config.input_size: expected a positive integer, got 0/,
  ],
  ['input_size 1.5', 'CONFIG_INVALID', () => createRnn({ config: { ...LSTM, input_size: 1.5 }, weights: {} })],
  ['input_size "3"', 'CONFIG_INVALID', () => createRnn({ config: { ...LSTM, input_size: '3' } as never, weights: {} }), /got "3"/],
  ['input_size a BigInt', 'CONFIG_INVALID', () => createRnn({ config: { ...LSTM, input_size: 3n } as never, weights: {} }), /got 3/],
  ['input_size NaN', 'CONFIG_INVALID', () => createRnn({ config: { ...LSTM, input_size: Number.NaN }, weights: {} })],
  ['hidden_size -4', 'CONFIG_INVALID', () => createRnn({ config: { ...LSTM, hidden_size: -4 }, weights: {} })],
  ['num_layers 0', 'CONFIG_INVALID', () => createRnn({ config: { ...LSTM, num_layers: 0 }, weights: {} })],
  ['bias "yes"', 'CONFIG_INVALID', () => createRnn({ config: { ...LSTM, bias: 'yes' } as never, weights: {} })],
  ['batch_first 1', 'CONFIG_INVALID', () => createRnn({ config: { ...LSTM, batch_first: 1 } as never, weights: {} })],
  ['bidirectional "no"', 'CONFIG_INVALID', () => createRnn({ config: { ...LSTM, bidirectional: 'no' } as never, weights: {} })],
  ['proj_size on a GRU', 'CONFIG_INVALID', () => createRnn({ config: { ...GRU_BI, proj_size: 2 }, weights: {} }), /only LSTM supports proj_size/],
  ['proj_size ≥ hidden_size', 'CONFIG_INVALID', () => createRnn({ config: { ...LSTM, proj_size: 5 }, weights: {} })],
  ['proj_size -1', 'CONFIG_INVALID', () => createRnn({ config: { ...LSTM, proj_size: -1 }, weights: {} })],
  ['dropout 2', 'CONFIG_INVALID', () => createRnn({ config: { ...LSTM, dropout: 2 }, weights: {} })],
  ['dropout "0.1"', 'CONFIG_INVALID', () => createRnn({ config: { ...LSTM, dropout: '0.1' } as never, weights: {} })],
  [
    'backend "gpu"',
    'OPTION_INVALID',
    () => createRnn({ ...base(), backend: 'gpu' as never }),
    /options.backend: expected "webgpu", "cpu" or "auto", got "gpu"/,
  ],
  ['strategy "fast"', 'OPTION_INVALID', () => createRnn({ ...base(), strategy: 'fast' as never }), /options.strategy/],
  ['precision "f64"', 'OPTION_INVALID', () => createRnn({ ...base(), precision: 'f64' as never }), /options.precision/],
  ['device not a GPUDevice', 'OPTION_INVALID', () => createRnn({ ...base(), device: {} as never }), /options.device: expected a GPUDevice, got an object/],
  ['checkFinite "yes"', 'OPTION_INVALID', (x) => x.create({ checkFinite: 'yes' }), /checkFinite: expected true or false/],
  ['prefix 5', 'OPTION_INVALID', (x) => x.create({ prefix: 5 }), /prefix: expected a non-empty string/],
  ['prefix that matches nothing', 'WEIGHTS_INVALID', (x) => x.create({ prefix: 'encoder.' }), /prefix "encoder.": no tensor name starts with it/],
];

const weightsRow = (name: string, weights: unknown, message?: RegExp): Row => [name, 'WEIGHTS_INVALID', (x) => x.create({ weights }), message];
const spoiled = (name: string, tensor: unknown) => ({ ...lstm.weights, [name]: tensor });
const w0 = lstm.weights.weight_ih_l0;

const WEIGHTS: Row[] = [
  weightsRow('weights null', null, /weights: expected tensors by name, a decoded safetensors file or its bytes \(Uint8Array\), got null/),
  weightsRow('weights an ArrayBuffer', new ArrayBuffer(16), /got an ArrayBuffer of 16 bytes; pass a safetensors file's bytes as a Uint8Array/),
  weightsRow('weights a string', 'model.safetensors', /got "model.safetensors"/),
  weightsRow('weights a number', 7),
  weightsRow('weights an array', [w0]),
  weightsRow('weights a Float32Array', new Float32Array(4), /got a Float32Array of 4/),
  ['weights bytes that are not safetensors', 'SAFETENSORS_INVALID', (x) => x.create({ weights: new Uint8Array([1, 2, 3]) })],
  weightsRow('a missing tensor', (({ bias_hh_l1: _, ...rest }) => rest)(lstm.weights), /missing tensor bias_hh_l1 \(expected shape \[20\]\)/),
  weightsRow('an unexpected tensor', spoiled('extra', w0), /unexpected tensor extra/),
  weightsRow('a mis-shaped tensor', spoiled('weight_ih_l0', { shape: [3, 20], data: w0.data }), /tensor weight_ih_l0: expected shape \[20, 3\], got \[3, 20\]/),
  weightsRow(
    'a tensor with too little data',
    spoiled('weight_ih_l0', { shape: [20, 3], data: new Float32Array(59) }),
    /data holds 59 elements, shape needs 60/,
  ),
  weightsRow('a tensor with Int32Array data', spoiled('weight_ih_l0', { shape: [20, 3], data: new Int32Array(60) }), /weights must be floating point/),
  weightsRow(
    'a tensor with a plain array',
    spoiled('weight_ih_l0', { shape: [20, 3], data: Array(60).fill(0) }),
    /tensor weight_ih_l0: expected a float tensor .*got an array of 60/,
  ),
  weightsRow('a tensor that is null', spoiled('weight_ih_l0', null), /tensor weight_ih_l0: expected a float tensor/),
  weightsRow('a shape that is not an array', spoiled('weight_ih_l0', { shape: '20x3', data: w0.data }), /expected shape \[20, 3\], got "20x3"/),
  [
    'an integer tensor in a file',
    'WEIGHTS_INVALID',
    (x) => x.create({ weights: writeSafetensors({ ...lstm.weights, weight_ih_l0: { shape: [20, 3], data: new Int32Array(60) } as never }) }),
    /weight_ih_l0: weights must be floating point/,
  ],
  [
    "a whole model's state_dict (encoder.rnn.* and head.*)",
    'WEIGHTS_INVALID',
    (x) => x.create({ weights: { ...Object.fromEntries(Object.entries(lstm.weights).map(([k, v]) => [`encoder.rnn.${k}`, v])), 'head.weight': f32([3, 4]) } }),
    /hint: the tensors under "encoder.rnn." match this configuration .*pass prefix: "encoder.rnn."/,
  ],
  [
    'NaN in the weights with checkFinite',
    'NON_FINITE',
    (x) => x.create({ weights: spoiled('bias_ih_l1', { shape: [20], data: new Float32Array(20).fill(Number.NaN) }), checkFinite: true }),
    /weights bias_ih_l1: element 0 is NaN/,
  ],
  [
    'Inf in the weights with checkFinite',
    'NON_FINITE',
    (x) => x.create({ weights: spoiled('weight_hr_l0', { shape: [2, 5], data: new Float32Array(10).fill(Number.POSITIVE_INFINITY) }), checkFinite: true }),
  ],
];

const fwd = (name: string, code: RnnErrorCode, input: unknown, options?: unknown, message?: RegExp): Row => [
  name,
  code,
  (x) => x.model.forward(input as Tensor, options as never),
  message,
];
const x0 = lstm.input;
const opts = { h0: lstm.h0, c0: lstm.c0, lengths: lstm.lengths };

const FORWARD: Row[] = [
  fwd('input null', 'TENSOR_INVALID', null, undefined, /input: expected a tensor \{ shape, data \}, got null/),
  fwd('input undefined', 'TENSOR_INVALID', undefined),
  fwd('input a number', 'TENSOR_INVALID', 3),
  fwd('input a bare Float32Array', 'TENSOR_INVALID', x0.data, undefined, /got a Float32Array of 24/),
  fwd('input.shape not an array', 'TENSOR_INVALID', { shape: 24, data: x0.data }, undefined, /input.shape: expected an array of non-negative integers, got 24/),
  fwd('input.shape with -1', 'TENSOR_INVALID', { shape: [-1, 2, 3], data: x0.data }),
  fwd('input.shape with 1.5', 'TENSOR_INVALID', { shape: [4, 2, 1.5], data: x0.data }),
  fwd(
    'input.data a plain array',
    'TENSOR_INVALID',
    { shape: [4, 2, 3], data: Array.from(x0.data) },
    undefined,
    /input.data: expected a Float32Array or Float64Array, got an array of 24/,
  ),
  fwd('input.data an Int32Array', 'TENSOR_INVALID', { shape: [4, 2, 3], data: new Int32Array(24) }),
  fwd('input.data too short', 'TENSOR_INVALID', { shape: [4, 2, 3], data: new Float32Array(23) }, undefined, /holds 24 elements, data has 23/),
  fwd('input.data too long', 'TENSOR_INVALID', { shape: [4, 2, 3], data: new Float32Array(25) }),
  fwd('a 1-D input', 'TENSOR_INVALID', f32([24]), undefined, /expected a 3-D tensor/),
  fwd('a 4-D input', 'TENSOR_INVALID', f32([1, 4, 2, 3])),
  fwd('a wrong feature size', 'TENSOR_INVALID', f32([4, 2, 4]), undefined, /last dimension must be input_size=3/),
  fwd('T = 0', 'TENSOR_INVALID', f32([0, 2, 3]), undefined, /at least 1/),
  fwd('B = 0', 'TENSOR_INVALID', f32([4, 0, 3])),
  fwd('a shape past the element cap', 'LIMIT_EXCEEDED', { shape: [1 << 24, 2, 3], data: new Float32Array(1) }, undefined, /too large/),
  fwd('options null', 'OPTION_INVALID', x0, null, /forward options: expected an object, got null/),
  fwd('options a number', 'OPTION_INVALID', x0, 5),
  fwd('an unknown option (hx)', 'OPTION_INVALID', x0, { hx: lstm.h0 }, /unknown option\(s\) "hx"; known options are h0, c0, lengths/),
  fwd('h0 mis-shaped', 'TENSOR_INVALID', x0, { h0: f32([2, 2, 5]) }, /h0: expected shape \[2, 2, 2\], got \[2, 2, 5\]/),
  fwd(
    'h0 with too little data',
    'TENSOR_INVALID',
    x0,
    { h0: { shape: [2, 2, 2], data: new Float32Array(4) } },
    /h0: shape \[2, 2, 2\] holds 8 elements, data has 4/,
  ),
  fwd('h0 with too much data', 'TENSOR_INVALID', x0, { h0: { shape: [2, 2, 2], data: new Float32Array(9) } }),
  fwd('h0 with Int32Array data', 'TENSOR_INVALID', x0, { h0: { shape: [2, 2, 2], data: new Int32Array(8) } }, /h0.data: expected a Float32Array/),
  fwd('h0 null', 'TENSOR_INVALID', x0, { h0: null }),
  fwd('c0 mis-shaped', 'TENSOR_INVALID', x0, { c0: f32([2, 2, 2]) }, /c0: expected shape \[2, 2, 5\]/),
  fwd('c0 with too little data', 'TENSOR_INVALID', x0, { c0: { shape: [2, 2, 5], data: new Float32Array(10) } }),
  fwd(
    'lengths a Float32Array',
    'TENSOR_INVALID',
    x0,
    { lengths: new Float32Array([4, 2]) },
    /lengths: expected an array of integers, an Int32Array or an integer tensor .* got a Float32Array of 2/,
  ),
  fwd('lengths a string', 'TENSOR_INVALID', x0, { lengths: '4,2' }),
  fwd('lengths a number', 'TENSOR_INVALID', x0, { lengths: 4 }),
  fwd('too few lengths', 'TENSOR_INVALID', x0, { lengths: [4] }, /expected 2 entries/),
  fwd('a zero length', 'TENSOR_INVALID', x0, { lengths: [0, 4] }, /lengths\[0\] = 0: each length must be an integer in \[1, T=4\]/),
  fwd('a length past T', 'TENSOR_INVALID', x0, { lengths: [5, 4] }),
  fwd('a fractional length', 'TENSOR_INVALID', x0, { lengths: [2.5, 4] }),
  fwd('a NaN length', 'TENSOR_INVALID', x0, { lengths: [Number.NaN, 4] }),
  fwd('a string length', 'TENSOR_INVALID', x0, { lengths: ['4', 4] }, /lengths\[0\] = "4"/),
  fwd('lengths tensor of the wrong shape', 'TENSOR_INVALID', x0, { lengths: { shape: [2, 1], data: new Int32Array([4, 2]) } }, /lengths: expected shape \[2\]/),
  fwd('lengths tensor with Float64Array data', 'TENSOR_INVALID', x0, { lengths: { shape: [2], data: new Float64Array([4, 2]) } }),
];

const GRU_ROWS: Row[] = [
  [
    'c0 for a GRU',
    'TENSOR_INVALID',
    async (x) => (await x.create({ config: GRU_BI, weights: gruBi.weights })).forward(gruBi.input, { c0: f32([2, 2, 4]) }),
    /c0: only LSTM has a cell state/,
  ],
  [
    'a stream of a bidirectional model',
    'OPTION_INVALID',
    async (x) => (await x.create({ config: GRU_BI, weights: gruBi.weights })).stream(),
    /bidirectional model needs the whole sequence/,
  ],
];

const STREAM: Row[] = [
  ['stream batch 0', 'OPTION_INVALID', (x) => x.model.stream({ batch: 0 }), /stream options.batch: expected a positive integer, got 0/],
  ['stream batch 1.5', 'OPTION_INVALID', (x) => x.model.stream({ batch: 1.5 })],
  ['stream batch "2"', 'OPTION_INVALID', (x) => x.model.stream({ batch: '2' as never })],
  ['stream options null', 'OPTION_INVALID', (x) => x.model.stream(null as never)],
  ['stream unknown option', 'OPTION_INVALID', (x) => x.model.stream({ size: 2 } as never), /unknown option\(s\) "size"; known options are batch, h0, c0/],
  ['stream h0 mis-shaped', 'TENSOR_INVALID', (x) => x.model.stream({ batch: 2, h0: f32([2, 1, 2]) }), /h0: expected shape \[2, 2, 2\]/],
  ['stream h0 with too little data', 'TENSOR_INVALID', (x) => x.model.stream({ batch: 2, h0: { shape: [2, 2, 2], data: new Float32Array(3) } })],
  ['stream c0 with plain array data', 'TENSOR_INVALID', (x) => x.model.stream({ batch: 2, c0: { shape: [2, 2, 5], data: Array(20).fill(0) as never } })],
  ['push a chunk of the wrong batch', 'TENSOR_INVALID', (x) => x.stream.push(f32([3, 1, 3])), /expected batch 2 \(the stream's\), got shape \[3, 1, 3\]/],
  ['push a chunk of the wrong feature size', 'TENSOR_INVALID', (x) => x.stream.push(f32([3, 2, 4]))],
  ['push null', 'TENSOR_INVALID', (x) => x.stream.push(null as never)],
  [
    'push an unknown option',
    'OPTION_INVALID',
    (x) => x.stream.push(f32([3, 2, 3]), { readback: false } as never),
    /push options: unknown option\(s\) "readback"; known options are lengths, read/,
  ],
  ['push read "no"', 'OPTION_INVALID', (x) => x.stream.push(f32([3, 2, 3]), { read: 'no' as never }), /push options.read: expected true or false, got "no"/],
  ['push lengths past the chunk', 'TENSOR_INVALID', (x) => x.stream.push(f32([3, 2, 3]), { lengths: [4, 1] })],
  ['reset with a mis-shaped h0', 'TENSOR_INVALID', (x) => x.stream.reset({ h0: f32([1, 2, 2]) })],
  ['reset with an unknown key', 'OPTION_INVALID', (x) => x.stream.reset({ h: f32([2, 2, 2]) } as never), /stream state: unknown option\(s\) "h"/],
  ['reset with c0 too short', 'TENSOR_INVALID', (x) => x.stream.reset({ c0: { shape: [2, 2, 5], data: new Float32Array(19) } })],
  [
    'NaN input with checkFinite',
    'NON_FINITE',
    async (x) => (await x.create({ checkFinite: true })).forward(f32([4, 2, 3], Number.NaN)),
    /input: element 0 is NaN \(checkFinite is on/,
  ],
  [
    'NaN h0 with checkFinite',
    'NON_FINITE',
    async (x) => (await x.create({ checkFinite: true })).forward(x0, { h0: f32([2, 2, 2], Number.NEGATIVE_INFINITY) }),
    /h0: element 0 is -Infinity/,
  ],
  [
    'NaN chunk pushed with checkFinite',
    'NON_FINITE',
    async (x) => (await x.create({ checkFinite: true })).stream({ batch: 2 }).push(f32([1, 2, 3], Number.NaN)),
  ],
];

/** Use after close / destroy: each gets a model and stream of its own, so the shared ones stay open. */
const AFTER: Row[] = [
  [
    'push after close',
    'DESTROYED',
    async (x) => {
      const s = x.model.stream({ batch: 2 });
      s.close();
      return s.push(f32([1, 2, 3]));
    },
    /the stream was closed/,
  ],
  [
    'state after close',
    'DESTROYED',
    async (x) => {
      const s = x.model.stream({ batch: 2 });
      s.close();
      return s.state();
    },
  ],
  [
    'reset after close',
    'DESTROYED',
    async (x) => {
      const s = x.model.stream({ batch: 2 });
      s.close();
      s.reset();
    },
  ],
  [
    'forward after destroy',
    'DESTROYED',
    async (x) => {
      const m = await x.create({});
      m.destroy();
      return m.forward(x0);
    },
    /the model was destroyed/,
  ],
  [
    'stream after destroy',
    'DESTROYED',
    async (x) => {
      const m = await x.create({});
      m.destroy();
      m.stream();
    },
  ],
  [
    'push on a stream of a destroyed model',
    'DESTROYED',
    async (x) => {
      const m = await x.create({});
      const s = m.stream({ batch: 2 });
      m.destroy();
      return s.push(f32([1, 2, 3]));
    },
  ],
  [
    'state of a stream of a destroyed model',
    'DESTROYED',
    async (x) => {
      const m = await x.create({});
      const s = m.stream({ batch: 2 });
      m.destroy();
      return s.state();
    },
  ],
];

const ROWS: Row[] = [...CREATE, ...WEIGHTS, ...FORWARD, ...GRU_ROWS, ...STREAM, ...AFTER];

describe.each(['cpu', 'webgpu'] as const)('bad calls on the %s backend', (backend) => {
  const made: Rnn[] = [];
  let ctx: Ctx;
  let reference: Rnn;
  let streamed = 0;

  beforeAll(async () => {
    const create = async (extra: Record<string, unknown>) => {
      const m = await createRnn({ config: lstm.config, weights: lstm.weights, backend, ...extra } as never);
      made.push(m);
      return m;
    };
    const model = await create({});
    ctx = { backend, model, stream: model.stream({ batch: 2, h0: lstm.h0, c0: lstm.c0 }), c: lstm, create };
    reference = await createRnn({ config: lstm.config, weights: lstm.weights, backend: 'cpu' });
  });
  afterAll(() => {
    for (const m of made) m.destroy();
  });

  it('has at least 100 rows', () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(100);
    expect(new Set(ROWS.map((r) => r[0])).size).toBe(ROWS.length);
  });

  it.each(ROWS.map((row) => [row[0], row] as const))('%s', async (_name, [, code, call, message]) => {
    let error: unknown;
    try {
      await call(ctx);
    } catch (e) {
      error = e;
    }
    if (!(error instanceof RnnError))
      throw new Error(`expected RnnError ${code}, got ${error === undefined ? 'no error' : ((error as Error).stack ?? String(error))}`);
    expect(error.code, error.message).toBe(code);
    if (message) expect(error.message).toMatch(message);
    // The model, and the stream it keeps open, are as they were.
    const want = await reference.forward(x0, opts);
    const got = await ctx.model.forward(x0, opts);
    expectClose('output after the bad call', got.output, want.output, GPU_RTOL);
    expectClose('h_n after the bad call', got.h_n, want.h_n, GPU_RTOL);
    const chunk = { shape: [1, 2, 3], data: x0.data.slice((streamed * 6) % 24, ((streamed * 6) % 24) + 6) };
    streamed++;
    const pushed = await ctx.stream.push(chunk);
    expect(pushed!.shape).toEqual([1, 2, 2]);
    expect(Array.from(pushed!.data).every(Number.isFinite)).toBe(true);
  });

  it('the stream kept open through every bad call holds the state of exactly its good pushes', async () => {
    const pushes: Tensor[] = [];
    for (let k = 0; k < streamed; k++) pushes.push({ shape: [1, 2, 3], data: x0.data.slice((k * 6) % 24, ((k * 6) % 24) + 6) });
    const whole = { shape: [streamed, 2, 3], data: new Float32Array(pushes.flatMap((p) => Array.from(p.data))) };
    const want = await reference.forward(whole, { h0: lstm.h0, c0: lstm.c0 });
    const state = await ctx.stream.state();
    expectClose('stream h_n', state.h_n, want.h_n, GPU_RTOL);
    expectClose('stream c_n', state.c_n, want.c_n!, GPU_RTOL);
  });
});
