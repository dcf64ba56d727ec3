/**
 * The glue operators exporters put around recurrent nodes, on the host in float64, from the ONNX
 * operator specification: Constant, ConstantOfShape, Cast, Identity, Squeeze, Unsqueeze, Slice,
 * Transpose, Reshape, Concat, Gather, Shape, Add, Mul, MatMul, Gemm, Sigmoid, Tanh, Relu, Softmax. Each
 * takes the node's input values (undefined for an omitted optional input), its attributes and the
 * model's opset, and returns its outputs. The recurrent operators are recurrent.ts's (float64) and
 * recurrent-gpu.ts's (the engine).
 */
import { RnnError } from '../errors.js';
import { roundToFloat16 } from '../float16.js';
import { DataType, type OnnxAttributeProto } from './schema.js';
import { type OnnxValue, count, floatValue, intValue, typeName, valueFromProto } from './values.js';

export type Inputs = ReadonlyArray<OnnxValue | undefined>;

/** A node's attributes by name, read with defaults. */
export class Attributes {
  private readonly byName: Map<string, OnnxAttributeProto>;
  constructor(
    readonly op: string,
    list: readonly OnnxAttributeProto[] = [],
  ) {
    this.byName = new Map(list.map((a) => [a.name ?? '', a]));
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  names(): string[] {
    return [...this.byName.keys()];
  }
  int(name: string, fallback: number): number {
    const a = this.byName.get(name);
    return a?.i === undefined ? fallback : Number(a.i);
  }
  float(name: string, fallback?: number): number | undefined {
    const a = this.byName.get(name);
    return a?.f === undefined ? fallback : a.f;
  }
  ints(name: string): number[] | undefined {
    const a = this.byName.get(name);
    return a?.ints?.map(Number);
  }
  floats(name: string): number[] {
    return this.byName.get(name)?.floats ?? [];
  }
  string(name: string, fallback: string): string {
    const s = this.byName.get(name)?.s;
    return s ? new TextDecoder().decode(s) : fallback;
  }
  strings(name: string): string[] {
    return (this.byName.get(name)?.strings ?? []).map((s) => new TextDecoder().decode(s));
  }
  tensor(name: string): OnnxValue | undefined {
    const t = this.byName.get(name)?.t;
    return t ? valueFromProto(t, `${this.op} attribute ${name}`) : undefined;
  }
}

type Op = (inputs: Inputs, attrs: Attributes, opset: number) => OnnxValue[];

const strides = (dims: readonly number[]) => {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
};

function need(op: string, inputs: Inputs, i: number): OnnxValue {
  const v = inputs[i];
  if (!v) throw new RnnError('ONNX_INVALID', `${op}: input ${i} is missing`);
  return v;
}

function axis(op: string, a: number, rank: number): number {
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= rank) throw new RnnError('ONNX_INVALID', `${op}: axis ${a} is out of range for rank ${rank}`);
  return r;
}

/** Numpy-style broadcasting of two shapes. */
function broadcastShape(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new RnnError('ONNX_INVALID', `${op}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    return Math.max(x, y);
  });
}

/** The flat index into a tensor of `dims` of the broadcast position `index` in `out`. */
function broadcastIndex(out: readonly number[], dims: readonly number[], flat: number): number {
  const s = strides(dims);
  let rem = flat;
  let at = 0;
  const os = strides(out);
  for (let i = 0; i < out.length; i++) {
    const q = Math.floor(rem / os[i]);
    rem -= q * os[i];
    const k = i - (out.length - dims.length);
    if (k >= 0 && dims[k] !== 1) at += q * s[k];
  }
  return at;
}

function elementwise(op: string, f: (x: number, y: number) => number): Op {
  return (inputs) => {
    const [a, b] = [need(op, inputs, 0), need(op, inputs, 1)];
    const dims = broadcastShape(op, a.dims, b.dims);
    const out = new Float64Array(count(dims));
    for (let i = 0; i < out.length; i++) out[i] = f(a.data[broadcastIndex(dims, a.dims, i)], b.data[broadcastIndex(dims, b.dims, i)]);
    return [{ dims, data: out, kind: a.kind === 'int' && b.kind === 'int' ? 'int' : 'float' }];
  };
}

function unary(op: string, f: (x: number) => number): Op {
  return (inputs) => {
    const a = need(op, inputs, 0);
    return [floatValue(a.dims, a.data.map(f))];
  };
}

function transpose(v: OnnxValue, perm: readonly number[]): OnnxValue {
  const dims = perm.map((p) => v.dims[p]);
  const inStrides = strides(v.dims);
  const outStrides = strides(dims);
  const out = new Float64Array(v.data.length);
  for (let i = 0; i < out.length; i++) {
    let rem = i;
    let at = 0;
    for (let k = 0; k < dims.length; k++) {
      const q = Math.floor(rem / outStrides[k]);
      rem -= q * outStrides[k];
      at += q * inStrides[perm[k]];
    }
    out[i] = v.data[at];
  }
  return { dims, data: out, kind: v.kind };
}

/** Axes from the input `index` (opset ≥ `since`) or the attribute `axes`. */
function axesOf(inputs: Inputs, attrs: Attributes, opset: number, since: number, index: number): number[] | undefined {
  if (opset >= since) return inputs[index] ? Array.from(inputs[index]!.data) : undefined;
  return attrs.ints('axes');
}

/** (…, M, K) · (…, K, N) with numpy's rules for 1-D operands and batch broadcasting. */
function matmul(a: OnnxValue, b: OnnxValue): OnnxValue {
  const ad = a.dims.length === 1 ? [1, a.dims[0]] : [...a.dims];
  const bd = b.dims.length === 1 ? [b.dims[0], 1] : [...b.dims];
  const [M, K] = ad.slice(-2);
  const [K2, N] = bd.slice(-2);
  if (K !== K2) throw new RnnError('ONNX_INVALID', `MatMul: inner dimensions differ, [${a.dims.join(', ')}] · [${b.dims.join(', ')}]`);
  const batch = broadcastShape('MatMul', ad.slice(0, -2), bd.slice(0, -2));
  const nb = count(batch);
  const out = new Float64Array(nb * M * N);
  for (let z = 0; z < nb; z++) {
    const ao = broadcastIndex(batch, ad.slice(0, -2), z) * M * K;
    const bo = broadcastIndex(batch, bd.slice(0, -2), z) * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a.data[ao + m * K + k] * b.data[bo + k * N + n];
        out[(z * M + m) * N + n] = s;
      }
    }
  }
  const dims = [...batch, ...(a.dims.length === 1 ? [] : [M]), ...(b.dims.length === 1 ? [] : [N])];
  return floatValue(dims, out);
}

export const OPS: Record<string, Op> = {
  Identity: (inputs) => [need('Identity', inputs, 0)],
  Constant: (_inputs, attrs) => {
    const t = attrs.tensor('value');
    if (t) return [t];
    if (attrs.has('value_float')) return [floatValue([], [attrs.float('value_float')!])];
    if (attrs.has('value_floats')) return [floatValue([attrs.floats('value_floats').length], attrs.floats('value_floats'))];
    if (attrs.has('value_int')) return [intValue([], [attrs.int('value_int', 0)])];
    if (attrs.has('value_ints')) return [intValue([attrs.ints('value_ints')!.length], attrs.ints('value_ints')!)];
    throw new RnnError('ONNX_UNSUPPORTED', `Constant: only value, value_float(s) and value_int(s) are supported (attributes: ${attrs.names().join(', ')})`);
  },
  // Exporters cast lengths to int32 for sequence_lens, or ids to int64: the value converted as ONNX's Cast
  // does (to a float type: rounded to it; to an integer: truncated toward zero; to BOOL: x ≠ 0).
  Cast: (inputs, attrs) => {
    const v = need('Cast', inputs, 0);
    const to = attrs.int('to', 0);
    const convert: Record<number, (x: number) => number> = {
      [DataType.FLOAT]: Math.fround,
      [DataType.DOUBLE]: (x) => x,
      [DataType.FLOAT16]: roundToFloat16,
      [DataType.BOOL]: (x) => (x !== 0 ? 1 : 0),
      [DataType.INT32]: Math.trunc,
      [DataType.INT64]: Math.trunc,
      [DataType.INT8]: Math.trunc,
      [DataType.UINT8]: Math.trunc,
    };
    const f = convert[to];
    if (!f) throw new RnnError('ONNX_UNSUPPORTED', `Cast: to ${typeName(to)} (supported: FLOAT, DOUBLE, FLOAT16, BOOL, INT8, UINT8, INT32, INT64)`);
    const isFloat = to === DataType.FLOAT || to === DataType.DOUBLE || to === DataType.FLOAT16;
    return [{ dims: v.dims, data: v.data.map(f), kind: isFloat ? 'float' : 'int' }];
  },
  // PyTorch's exporter builds zero initial states with it when none are given: Shape → … → ConstantOfShape.
  ConstantOfShape: (inputs, attrs) => {
    const dims = Array.from(need('ConstantOfShape', inputs, 0).data);
    if (dims.some((d) => !Number.isInteger(d) || d < 0))
      throw new RnnError('ONNX_INVALID', `ConstantOfShape: shape [${dims.join(', ')}] is not a list of sizes`);
    const value = attrs.tensor('value') ?? floatValue([1], [0]);
    if (count(value.dims) !== 1) throw new RnnError('ONNX_INVALID', `ConstantOfShape: value must hold one element, got [${value.dims.join(', ')}]`);
    return [{ dims, data: new Float64Array(count(dims)).fill(value.data[0]), kind: value.kind }];
  },
  Add: elementwise('Add', (x, y) => x + y),
  Mul: elementwise('Mul', (x, y) => x * y),
  Sigmoid: unary('Sigmoid', (x) => 1 / (1 + Math.exp(-x))),
  Tanh: unary('Tanh', Math.tanh),
  Relu: unary('Relu', (x) => Math.max(0, x)),
  Shape: (inputs, attrs) => {
    const dims = need('Shape', inputs, 0).dims;
    const r = dims.length;
    const clampAxis = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
    const [start, end] = [clampAxis(attrs.int('start', 0)), clampAxis(attrs.int('end', r))];
    const picked = dims.slice(start, Math.max(start, end));
    return [intValue([picked.length], picked)];
  },
  Transpose: (inputs, attrs) => {
    const v = need('Transpose', inputs, 0);
    const perm = attrs.ints('perm') ?? v.dims.map((_, i) => v.dims.length - 1 - i);
    if (perm.length !== v.dims.length || [...perm].sort().some((p, i) => p !== i))
      throw new RnnError('ONNX_INVALID', `Transpose: perm [${perm.join(', ')}] is not a permutation of rank ${v.dims.length}`);
    return [transpose(v, perm)];
  },
  Reshape: (inputs, attrs) => {
    const v = need('Reshape', inputs, 0);
    const shape = Array.from(need('Reshape', inputs, 1).data);
    const allowZero = attrs.int('allowzero', 0) === 1;
    const dims = shape.map((s, i) => (s === 0 && !allowZero ? v.dims[i] : s));
    const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const infer = dims.indexOf(-1);
    if (infer >= 0) dims[infer] = known === 0 ? 0 : count(v.dims) / known;
    if (count(dims) !== count(v.dims) || dims.some((d) => !Number.isInteger(d) || d < 0))
      throw new RnnError('ONNX_INVALID', `Reshape: [${v.dims.join(', ')}] cannot become [${shape.join(', ')}]`);
    return [{ dims, data: v.data, kind: v.kind }];
  },
  Squeeze: (inputs, attrs, opset) => {
    const v = need('Squeeze', inputs, 0);
    const axes = axesOf(inputs, attrs, opset, 13, 1)?.map((a) => axis('Squeeze', a, v.dims.length));
    const dims = v.dims.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
    if (axes?.some((a) => v.dims[a] !== 1)) throw new RnnError('ONNX_INVALID', `Squeeze: axes [${axes.join(', ')}] of [${v.dims.join(', ')}] are not all 1`);
    return [{ dims, data: v.data, kind: v.kind }];
  },
  Unsqueeze: (inputs, attrs, opset) => {
    const v = need('Unsqueeze', inputs, 0);
    const given = axesOf(inputs, attrs, opset, 13, 1);
    if (!given) throw new RnnError('ONNX_INVALID', 'Unsqueeze: no axes');
    const rank = v.dims.length + given.length;
    const axes = given.map((a) => axis('Unsqueeze', a, rank));
    const dims: number[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) dims.push(axes.includes(i) ? 1 : v.dims[k++]);
    return [{ dims, data: v.data, kind: v.kind }];
  },
  Concat: (inputs, attrs) => {
    const parts = inputs.filter((v): v is OnnxValue => v !== undefined && count(v.dims) > 0);
    if (!parts.length) return [need('Concat', inputs, 0)];
    const rank = parts[0].dims.length;
    const ax = axis('Concat', attrs.int('axis', 0), rank);
    const dims = [...parts[0].dims];
    dims[ax] = parts.reduce((s, p) => s + p.dims[ax], 0);
    const outer = count(dims.slice(0, ax));
    const out = new Float64Array(count(dims));
    let o = 0;
    for (let i = 0; i < outer; i++) {
      for (const p of parts) {
        const block = count(p.dims.slice(ax));
        out.set(p.data.subarray(i * block, (i + 1) * block), o);
        o += block;
      }
    }
    return [{ dims, data: out, kind: parts.every((p) => p.kind === 'int') ? 'int' : 'float' }];
  },
  Gather: (inputs, attrs) => {
    const [v, idx] = [need('Gather', inputs, 0), need('Gather', inputs, 1)];
    const ax = axis('Gather', attrs.int('axis', 0), v.dims.length);
    const outer = count(v.dims.slice(0, ax));
    const inner = count(v.dims.slice(ax + 1));
    const n = v.dims[ax];
    const dims = [...v.dims.slice(0, ax), ...idx.dims, ...v.dims.slice(ax + 1)];
    const out = new Float64Array(count(dims));
    for (let o = 0; o < outer; o++) {
      idx.data.forEach((raw, j) => {
        const i = raw < 0 ? raw + n : raw;
        if (i < 0 || i >= n) throw new RnnError('ONNX_INVALID', `Gather: index ${raw} is out of range for a dimension of ${n}`);
        out.set(v.data.subarray((o * n + i) * inner, (o * n + i + 1) * inner), (o * idx.data.length + j) * inner);
      });
    }
    return [{ dims, data: out, kind: v.kind }];
  },
  Slice: (inputs, attrs, opset) => {
    const v = need('Slice', inputs, 0);
    const r = v.dims.length;
    const list = (i: number, name: string) => (opset >= 10 ? (inputs[i] ? Array.from(inputs[i]!.data) : undefined) : attrs.ints(name));
    const starts = list(1, 'starts') ?? [];
    const ends = list(2, 'ends') ?? [];
    const axes = (list(3, 'axes') ?? starts.map((_, i) => i)).map((a) => axis('Slice', a, r));
    const steps = (opset >= 10 ? list(4, 'steps') : undefined) ?? starts.map(() => 1);
    const begin = v.dims.map(() => 0);
    const step = v.dims.map(() => 1);
    const dims = [...v.dims];
    axes.forEach((a, k) => {
      const d = v.dims[a];
      const st = steps[k];
      if (st === 0) throw new RnnError('ONNX_INVALID', 'Slice: a step of 0');
      const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x < 0 ? x + d : x));
      const s0 = st > 0 ? clamp(starts[k], 0, d) : clamp(starts[k], -1, d - 1);
      const e0 = st > 0 ? clamp(ends[k], 0, d) : clamp(ends[k], -1, d - 1);
      begin[a] = s0;
      step[a] = st;
      dims[a] = Math.max(0, Math.ceil((e0 - s0) / st));
    });
    const inS = strides(v.dims);
    const outS = strides(dims);
    const out = new Float64Array(count(dims));
    for (let i = 0; i < out.length; i++) {
      let rem = i;
      let at = 0;
      for (let k = 0; k < r; k++) {
        const q = Math.floor(rem / outS[k]);
        rem -= q * outS[k];
        at += (begin[k] + q * step[k]) * inS[k];
      }
      out[i] = v.data[at];
    }
    return [{ dims, data: out, kind: v.kind }];
  },
  MatMul: (inputs) => [matmul(need('MatMul', inputs, 0), need('MatMul', inputs, 1))],
  Gemm: (inputs, attrs) => {
    let [a, b] = [need('Gemm', inputs, 0), need('Gemm', inputs, 1)];
    if (a.dims.length !== 2 || b.dims.length !== 2) throw new RnnError('ONNX_INVALID', 'Gemm: A and B must be 2-D');
    if (attrs.int('transA', 0)) a = transpose(a, [1, 0]);
    if (attrs.int('transB', 0)) b = transpose(b, [1, 0]);
    const y = matmul(a, b);
    const alpha = attrs.float('alpha', 1)!;
    const beta = attrs.float('beta', 1)!;
    const c = inputs[2];
    if (c) broadcastShape('Gemm', y.dims, c.dims); // C broadcasts to (M, N): checked here
    const out = y.data.map((v, i) => alpha * v + (c ? beta * c.data[broadcastIndex(y.dims, c.dims, i)] : 0));
    return [floatValue(y.dims, out)];
  },
  Softmax: (inputs, attrs, opset) => {
    const v = need('Softmax', inputs, 0);
    const r = v.dims.length;
    const ax = axis('Softmax', attrs.int('axis', opset >= 13 ? -1 : 1), r);
    // Opset < 13 flattens to 2-D at the axis; 13 and later take the one axis.
    const n = opset >= 13 ? v.dims[ax] : count(v.dims.slice(ax));
    const inner = opset >= 13 ? count(v.dims.slice(ax + 1)) : 1;
    const outer = count(v.dims) / (n * inner);
    const out = new Float64Array(v.data.length);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const at = (k: number) => (o * n + k) * inner + i;
        let max = -Infinity;
        for (let k = 0; k < n; k++) max = Math.max(max, v.data[at(k)]);
        let z = 0;
        for (let k = 0; k < n; k++) z += Math.exp(v.data[at(k)] - max);
        for (let k = 0; k < n; k++) out[at(k)] = Math.exp(v.data[at(k)] - max) / z;
      }
    }
    return [floatValue(v.dims, out)];
  },
};
