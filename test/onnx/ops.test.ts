// The glue operators (src/onnx/ops.ts) one small graph at a time, against ONNX Runtime (its
// WebAssembly build): broadcasting, negative axes and indices, 1-D MatMul operands, Gemm's
// transposes and scales, Slice with negative steps, Reshape's 0 and −1, the attribute and input forms
// of axes across opsets (Squeeze / Unsqueeze attributes before 13, Softmax flattening before 13), the
// constants. Odd sizes throughout; every output compared elementwise (loadOnnx on the CPU backend
// rounds its float64 results to float32 once, ORT computes in float32).
import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../../src/onnx/model.js';
import { DataType } from '../../src/onnx/schema.js';
import { floatValue, intValue } from '../../src/onnx/values.js';
import { GraphBuilder } from '../../src/onnx/write.js';
import { seededUniform } from '../../src/random.js';
import type { IntTensor, Tensor } from '../../src/tensor.js';
import { expectClose } from '../support/compare.js';
import { runOrt } from '../support/ort.js';

const RTOL = 1e-6;

interface OpCase {
  name: string;
  opset?: number;
  /** Float graph inputs x0, x1, … of these shapes. */
  inputs: number[][];
  /** Integer (int64) graph inputs, by name. */
  ints?: Record<string, { shape: number[]; data: number[] }>;
  /** Builds the graph on inputs x0, x1, …; returns its outputs' names (all float). */
  build: (g: GraphBuilder) => string[];
}

const CASES: OpCase[] = [
  { name: 'Identity', inputs: [[3, 5]], build: (g) => [g.op('Identity', ['x0'])] },
  {
    name: 'Constant (value tensor) + Add',
    inputs: [[2, 3]],
    build: (g) => [g.op('Add', ['x0', g.op('Constant', [], { value: { tensor: floatValue([2, 3], [1, -2, 3, 0.5, 7, -9]) } })])],
  },
  { name: 'Constant (value_float) · Mul', inputs: [[3, 1]], build: (g) => [g.op('Mul', ['x0', g.op('Constant', [], { value_float: 0.75 })])] },
  {
    name: 'Constant (value_ints) as a Reshape target',
    inputs: [[2, 3, 2]],
    build: (g) => [g.op('Reshape', ['x0', g.op('Constant', [], { value_ints: [2, -1] })])],
  },
  {
    name: 'Shape (start, end: opset 15) → ConstantOfShape (value, and the default 0) + Add',
    opset: 15,
    inputs: [[4, 3, 2]],
    build: (g) => {
      const tail = g.op('ConstantOfShape', [g.op('Shape', ['x0'], { start: 1 })], { value: { tensor: floatValue([1], [2.5]) } });
      const zeros = g.op('ConstantOfShape', [g.op('Shape', ['x0'], { start: -2, end: -1 })]);
      return [g.op('Add', ['x0', tail]), g.op('Add', [zeros, g.op('Constant', [], { value_float: 1.5 })])];
    },
  },
  {
    name: 'Squeeze and Unsqueeze, axes as inputs (opset 13+), negative axes',
    inputs: [[3, 1, 2, 1]],
    build: (g) => [g.op('Squeeze', ['x0', g.ints('axes', [1, -1])]), g.op('Unsqueeze', [g.op('Squeeze', ['x0']), g.ints('axes', [0, -1])])],
  },
  {
    name: 'Squeeze and Unsqueeze, axes as attributes (opset 11)',
    opset: 11,
    inputs: [[3, 1, 2]],
    build: (g) => [g.op('Squeeze', ['x0'], { axes: [1] }), g.op('Unsqueeze', ['x0'], { axes: [0, 4] })],
  },
  {
    name: 'Slice: negative starts and ends, steps of 2 and −2, clamped ends',
    inputs: [[7, 6]],
    build: (g) => [
      g.op('Slice', ['x0', g.ints('starts', [1, -1]), g.ints('ends', [100, -7]), g.ints('axes', [0, 1]), g.ints('steps', [2, -2])]),
      g.op('Slice', ['x0', g.ints('starts', [-3]), g.ints('ends', [-1]), g.ints('axes', [-1])]),
    ],
  },
  {
    name: 'Transpose with perm and without (reversed axes)',
    inputs: [[2, 3, 5]],
    build: (g) => [g.op('Transpose', ['x0'], { perm: [2, 0, 1] }), g.op('Transpose', ['x0'])],
  },
  {
    name: 'Reshape with 0 (copy) and −1 (infer)',
    inputs: [[3, 4, 5]],
    build: (g) => [g.op('Reshape', ['x0', g.ints('shape', [0, -1])]), g.op('Reshape', ['x0', g.ints('shape', [-1, 5, 2, 2])])],
  },
  {
    name: 'Concat on the last axis (negative) and the first',
    inputs: [
      [2, 3],
      [2, 1],
      [1, 3],
    ],
    build: (g) => [g.op('Concat', ['x0', 'x1'], { axis: -1 }), g.op('Concat', ['x0', 'x2'], { axis: 0 })],
  },
  {
    name: 'Gather: token ids from a table (axis 0), and indices in 2-D with a negative one (axis 1)',
    inputs: [
      [7, 3],
      [2, 5, 3],
    ],
    ints: { tokens: { shape: [2, 3], data: [0, 6, 3, 3, 1, 5] } },
    build: (g) => [g.op('Gather', ['x0', 'tokens'], { axis: 0 }), g.op('Gather', ['x1', g.ints('idx', [0, -1, 2])], { axis: 1 })],
  },
  {
    name: 'Add and Mul broadcasting ([2,3,5] + [5], [2,1,5] · [3,1])',
    inputs: [[2, 3, 5], [5], [2, 1, 5], [3, 1]],
    build: (g) => [g.op('Add', ['x0', 'x1']), g.op('Mul', ['x2', 'x3'])],
  },
  {
    name: 'MatMul: batched, broadcast batches, 1-D operands',
    inputs: [[2, 3, 4], [4, 5], [2, 1, 3, 4], [5, 4, 2], [4], [3, 4]],
    build: (g) => [g.op('MatMul', ['x0', 'x1']), g.op('MatMul', ['x2', 'x3']), g.op('MatMul', ['x4', 'x1']), g.op('MatMul', ['x5', 'x4'])],
  },
  {
    name: 'Gemm: transA, transB, alpha, beta, C broadcast; and without C',
    inputs: [[4, 3], [5, 4], [5], [3, 4], [4, 5]],
    build: (g) => [g.op('Gemm', ['x0', 'x1', 'x2'], { transA: 1, transB: 1, alpha: 0.5, beta: -1.5 }), g.op('Gemm', ['x3', 'x4'])],
  },
  {
    name: 'Cast: float to int32 / int64 (truncation toward zero) and back, to float16, to bool',
    inputs: [[3, 4]],
    build: (g) => {
      const scaled = g.op('Mul', ['x0', g.op('Constant', [], { value_float: 3.5 })]);
      return [
        g.op('Cast', [g.op('Cast', [scaled], { to: DataType.INT32 })], { to: DataType.FLOAT }),
        g.op('Cast', [g.op('Cast', [scaled], { to: DataType.INT64 })], { to: DataType.FLOAT }),
        g.op('Cast', [g.op('Cast', ['x0'], { to: DataType.FLOAT16 })], { to: DataType.FLOAT }),
        g.op('Cast', [g.op('Cast', [g.op('Relu', ['x0'])], { to: DataType.BOOL })], { to: DataType.FLOAT }),
      ];
    },
  },
  { name: 'Sigmoid, Tanh, Relu', inputs: [[3, 7]], build: (g) => [g.op('Sigmoid', ['x0']), g.op('Tanh', ['x0']), g.op('Relu', ['x0'])] },
  {
    name: 'Softmax on one axis (opset 13+): default −1 and axis 1',
    inputs: [[2, 3, 5]],
    build: (g) => [g.op('Softmax', ['x0']), g.op('Softmax', ['x0'], { axis: 1 })],
  },
  { name: 'Softmax flattening at the axis (opset 11)', opset: 11, inputs: [[2, 3, 5]], build: (g) => [g.op('Softmax', ['x0'], { axis: 1 })] },
];

describe('ONNX glue operators vs ONNX Runtime', () => {
  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const g = new GraphBuilder(c.opset);
    const next = seededUniform(500 + i);
    const feeds: Record<string, Tensor | IntTensor> = {};
    c.inputs.forEach((shape, k) => {
      g.io('inputs', `x${k}`, DataType.FLOAT, shape);
      feeds[`x${k}`] = { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 4 * next() - 2) };
    });
    for (const [name, t] of Object.entries(c.ints ?? {})) {
      g.io('inputs', name, DataType.INT64, t.shape);
      feeds[name] = { shape: t.shape, data: Int32Array.from(t.data) };
    }
    const outputs = c.build(g);
    for (const name of outputs) g.io('outputs', name, DataType.FLOAT, []);
    // Declared output shapes are left empty (rank unknown is fine for both runtimes): strip the dims.
    for (const o of g.outputs) delete o.type!.tensor_type!.shape;
    const bytes = await g.bytes(c.name);
    const expected = await runOrt(bytes, feeds);
    const model = await loadOnnx(bytes, { backend: 'cpu' });
    try {
      const got = await model.run(feeds);
      expect(Object.keys(got)).toEqual(outputs);
      for (const name of outputs) expectClose(`${c.name}: ${name}`, got[name] as Tensor, expected[name], RTOL);
    } finally {
      model.destroy();
    }
  });

  it('says what is wrong with a glue node, naming it', async () => {
    const g = new GraphBuilder();
    g.io('inputs', 'x0', DataType.FLOAT, [2, 3]);
    g.io('outputs', g.op('Reshape', ['x0', g.ints('shape', [4, -1])]), DataType.FLOAT, []);
    const model = await loadOnnx(await g.bytes('bad reshape'), { backend: 'cpu' });
    await expect(model.run({ x0: { shape: [2, 3], data: new Float32Array(6) } })).rejects.toMatchObject({
      code: 'ONNX_INVALID',
      message: expect.stringMatching(/Reshape: \[2, 3\] cannot become \[4, -1\]/),
    });
    model.destroy();
    expect(intValue([1], [3]).kind).toBe('int');
  });
});
