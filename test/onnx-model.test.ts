/**
 * The ONNX export of the bench's ORT peer: the protobuf encoder byte for byte, the model's structure
 * read back with a small decoder written here from the protobuf spec, and ONNX Runtime Web running
 * the model (CPU EP, and the WebGPU EP on Dawn through the bench peer) against the float64 reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ortWebGpu } from '../src/bench/peers/ort.js';
import { ONNX_INPUT_NAME, ONNX_OUTPUT_NAME, ONNX_OPSET, ProtoWriter, buildOnnxRnnModel, encodeVarint } from '../src/bench/peers/onnx-model.js';
import type { PreparedSystem } from '../src/bench/system.js';
import { type RnnConfigInput, resolveConfig } from '../src/config.js';
import { getDefaultDevice, hostGpu } from '../src/gpu/device.js';
import { createRnn } from '../src/rnn.js';
import type { Tensor } from '../src/tensor.js';
import { GPU_RTOL, expectClose } from './support/compare.js';
import { randomCase, randomWeights, rng } from './support/random.js';

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('protobuf encoder', () => {
  it.each([
    [0, [0x00]],
    [1, [0x01]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [2 ** 32, [0x80, 0x80, 0x80, 0x80, 0x10]],
    [Number.MAX_SAFE_INTEGER, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]],
    [-1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    [2n ** 63n, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
    [2n ** 64n - 1n, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
  ] as const)('varint %s', (value, expected) => {
    expect(encodeVarint(value)).toEqual(Uint8Array.from(expected));
  });

  it('rejects what is not a safe integer', () => {
    expect(() => encodeVarint(1.5)).toThrow(RangeError);
    expect(() => encodeVarint(2 ** 60)).toThrow(RangeError);
    expect(() => new ProtoWriter().varint(0, 1)).toThrow(/field number/);
  });

  it('writes tags, strings, nested messages and two-byte tags', () => {
    // OperatorSetIdProto { domain: "", version: 14 }: tag 1|LEN, length 0; tag 2|VARINT, 14.
    expect(new ProtoWriter().string(1, '').varint(2, 14).finish()).toEqual(bytes(0x0a, 0x00, 0x10, 0x0e));
    // { 1: "hi", 2: { 1: 150 } } — the protobuf documentation's 150 = 0x96 0x01.
    const nested = new ProtoWriter().string(1, 'hi').message(2, new ProtoWriter().varint(1, 150)).finish();
    expect(nested).toEqual(bytes(0x0a, 0x02, 0x68, 0x69, 0x12, 0x03, 0x08, 0x96, 0x01));
    // Field 20 (AttributeProto.type) needs a two-byte tag: 20·8 + 0 = 160 = 0xa0 0x01.
    expect(new ProtoWriter().varint(20, 2).finish()).toEqual(bytes(0xa0, 0x01, 0x02));
    // UTF-8 lengths count bytes, not characters.
    expect(new ProtoWriter().string(3, 'é').finish()).toEqual(bytes(0x1a, 0x02, 0xc3, 0xa9));
  });
});

// ---------------------------------------------------------------------------------------------------
// A minimal protobuf reader (wire types 0 and 2 only, which is all the model uses).

type Field = { field: number; varint?: bigint; bytes?: Uint8Array };

function readMessage(buf: Uint8Array): Field[] {
  const fields: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[at++];
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  while (at < buf.length) {
    const tag = Number(varint());
    const wire = tag & 7;
    if (wire === 0) fields.push({ field: tag >> 3, varint: varint() });
    else if (wire === 2) {
      const n = Number(varint());
      fields.push({ field: tag >> 3, bytes: buf.subarray(at, at + n) });
      at += n;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return fields;
}
const all = (m: Field[], f: number) => m.filter((x) => x.field === f);
const one = (m: Field[], f: number) => all(m, f)[0];
const text = (m: Field[], f: number) => new TextDecoder().decode(one(m, f).bytes);

describe('ONNX model structure', () => {
  it('is a ModelProto with opset 14, one RNN node per layer and (T, B, D·H) between layers', () => {
    const config = resolveConfig({ mode: 'GRU', input_size: 3, hidden_size: 5, num_layers: 2, bidirectional: true });
    const model = readMessage(buildOnnxRnnModel(config, randomWeights(config, rng(1))));
    expect(one(model, 1).varint).toBe(7n); // ir_version
    const opset = readMessage(one(model, 8).bytes!);
    expect(text(opset, 1)).toBe('');
    expect(one(opset, 2).varint).toBe(BigInt(ONNX_OPSET));

    const graph = readMessage(one(model, 7).bytes!);
    const nodes = all(graph, 1).map((n) => readMessage(n.bytes!));
    expect(nodes.map((n) => text(n, 4))).toEqual(['GRU', 'Transpose', 'Reshape', 'GRU', 'Transpose', 'Reshape']);
    expect(all(nodes[0], 1).map((f) => new TextDecoder().decode(f.bytes))).toEqual([ONNX_INPUT_NAME, 'W_l0', 'R_l0', 'B_l0']);
    const attributes = Object.fromEntries(all(nodes[0], 5).map((a) => {
      const m = readMessage(a.bytes!);
      return [text(m, 1), one(m, 3)?.varint ?? text(m, 4)];
    }));
    expect(attributes).toEqual({ hidden_size: 5n, direction: 'bidirectional', layout: 0n, linear_before_reset: 1n });
    expect(all(nodes[5], 2).map((f) => new TextDecoder().decode(f.bytes))).toEqual([ONNX_OUTPUT_NAME]);

    const initializers = Object.fromEntries(all(graph, 5).map((t) => {
      const m = readMessage(t.bytes!);
      return [text(m, 8), { dims: all(m, 1).map((d) => Number(d.varint)), type: Number(one(m, 2).varint), size: one(m, 9).bytes!.length }];
    }));
    // W (D, 3H, I_l), R (D, 3H, H), B (D, 6H) as float32 (1); the reshape target as int64 (7).
    expect(initializers.W_l0).toEqual({ dims: [2, 15, 3], type: 1, size: 2 * 15 * 3 * 4 });
    expect(initializers.W_l1).toEqual({ dims: [2, 15, 10], type: 1, size: 2 * 15 * 10 * 4 });
    expect(initializers.R_l1).toEqual({ dims: [2, 15, 5], type: 1, size: 2 * 15 * 5 * 4 });
    expect(initializers.B_l1).toEqual({ dims: [2, 30], type: 1, size: 2 * 30 * 4 });
    expect(initializers.out_shape).toEqual({ dims: [3], type: 7, size: 24 });
  });

  it('refuses what ONNX LSTM / GRU cannot express here', () => {
    const rnn = resolveConfig({ mode: 'RNN_TANH', input_size: 3, hidden_size: 5 });
    expect(() => buildOnnxRnnModel(rnn, randomWeights(rnn, rng(1)))).toThrow(/LSTM and GRU only/);
    const proj = resolveConfig({ mode: 'LSTM', input_size: 3, hidden_size: 5, proj_size: 2 });
    expect(() => buildOnnxRnnModel(proj, randomWeights(proj, rng(1)))).toThrow(/proj_size/);
    const lstm = resolveConfig({ mode: 'LSTM', input_size: 3, hidden_size: 5 });
    expect(() => buildOnnxRnnModel(lstm, {})).toThrow(/missing tensor weight_ih_l0/);
  });
});

// ---------------------------------------------------------------------------------------------------
// ONNX Runtime Web vs the float64 reference.

/** Small odd sizes: every layer count, direction and bias choice the bench can produce, and saturating inputs. */
const CASES: { name: string; config: RnnConfigInput; T: number; B: number; scale?: number }[] = [];
for (const mode of ['LSTM', 'GRU'] as const) {
  for (const num_layers of [1, 2]) {
    for (const bidirectional of [false, true]) {
      CASES.push({ name: `${mode} L${num_layers} ${bidirectional ? 'bi' : 'uni'}`, config: { mode, input_size: 3, hidden_size: 5, num_layers, bidirectional }, T: 4, B: 2 });
    }
  }
  CASES.push({ name: `${mode} no bias, T=7 B=3`, config: { mode, input_size: 4, hidden_size: 6, bias: false }, T: 7, B: 3 });
  CASES.push({ name: `${mode} saturating input (×30)`, config: { mode, input_size: 3, hidden_size: 5 }, T: 4, B: 2, scale: 30 });
}

async function reference(c: ReturnType<typeof randomCase>): Promise<Tensor> {
  const model = await createRnn({ config: c.config, weights: c.weights, backend: 'cpu' });
  return (await model.forward(c.input)).output;
}

const ort = await import('onnxruntime-web/webgpu');
ort.env.wasm.numThreads = 1; // as the bench peer sets it: no worker threads

describe('ONNX Runtime Web (CPU EP) runs the model like PyTorch', () => {
  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, spec, i) => {
    const c = randomCase(spec.config, 100 + i, { T: spec.T, B: spec.B, scale: spec.scale });
    const session = await ort.InferenceSession.create(buildOnnxRnnModel(c.config, c.weights), { executionProviders: ['wasm'] });
    try {
      const x = new ort.Tensor('float32', Float32Array.from(c.input.data), [...c.input.shape]);
      const y = (await session.run({ [ONNX_INPUT_NAME]: x }))[ONNX_OUTPUT_NAME];
      expectClose('ORT CPU output', { shape: y.dims, data: y.data as Float32Array }, await reference(c), GPU_RTOL);
    } finally {
      await session.release();
    }
  });
});

describe('the ort-webgpu bench peer (WebGPU EP on Dawn) runs the model like PyTorch', () => {
  let device: GPUDevice;
  beforeAll(async () => {
    device = await getDefaultDevice();
  });

  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, spec, i) => {
    const c = randomCase(spec.config, 100 + i, { T: spec.T, B: spec.B, scale: spec.scale });
    const shape = { name: spec.name, about: 'test', config: { ...spec.config, mode: spec.config.mode as 'LSTM' | 'GRU' }, T: spec.T, B: spec.B };
    const prepared = await ortWebGpu.prepare({ shape, config: c.config, weights: c.weights, input: c.input }, device);
    try {
      expect(prepared.sameEquations).toBe(true);
      // Node has no navigator.gpu; the peer lends Dawn's only while ORT sets up, and takes it back.
      expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
      const expected = await reference(c);
      for (let run = 0; run < 2; run++) {
        expectClose(`ORT WebGPU output, run ${run}`, { shape: expected.shape, data: await prepared.run() }, expected, GPU_RTOL);
      }
    } finally {
      await prepared.dispose();
    }
  });

  describe('on a device that allows enough storage buffers', () => {
    let roomy: GPUDevice | undefined;
    let prepared: PreparedSystem | undefined;
    afterAll(async () => {
      await prepared?.dispose();
      roomy?.destroy();
    });

    it('runs on the given device', async () => {
      const adapter = await (await hostGpu())!.requestAdapter({ powerPreference: 'high-performance' });
      roomy = await adapter!.requestDevice({ label: 'onnx-model.test roomy', requiredLimits: { maxStorageBuffersPerShaderStage: 10 } });
      roomy.pushErrorScope('validation');
      const c = randomCase({ mode: 'LSTM', input_size: 3, hidden_size: 5 }, 7, { T: 3, B: 2 });
      const shape = { name: 'roomy', about: 'test', config: { mode: 'LSTM' as const, input_size: 3, hidden_size: 5 }, T: 3, B: 2 };
      prepared = await ortWebGpu.prepare({ shape, config: c.config, weights: c.weights, input: c.input }, roomy);
      expect(prepared.note).toMatch(/on the bench device/);
      const expected = await reference(c);
      expectClose('ORT WebGPU output', { shape: expected.shape, data: await prepared.run() }, expected, GPU_RTOL);
      expect(await roomy.popErrorScope()).toBeNull();
    });
  });
});
