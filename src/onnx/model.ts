/**
 * `loadOnnx(bytes)`: an ONNX model of recurrent networks as a runnable model with the graph's named
 * inputs and outputs. At load the file is decoded (protobufjs, schema.ts), every node is checked —
 * all unsupported operators, domains and attributes are reported together, by name, before anything
 * runs — and each LSTM / GRU / RNN node is placed: on the inference engine where its attributes are
 * PyTorch's equations (recurrent-gpu.ts; with backend 'webgpu' that is the GPU), else on the float64
 * path that implements every attribute (recurrent.ts), named in `placement` with the reason. The glue
 * around them runs on the host (ops.ts). Dynamic axes (seq, batch) take the sizes the feeds give.
 */
import type { Backend } from '../api.js';
import { RnnError, describeValue } from '../errors.js';
import { contextFor } from '../gpu/device.js';
import { checkOptions } from '../inputs.js';
import { type IntTensor, type Tensor, checkFloatTensor, checkIntTensor } from '../tensor.js';
import { Attributes, OPS } from './ops.js';
import { type RecurrentAttributes, type RecurrentOp, activationName, runRecurrent } from './recurrent.js';
import { GpuRecurrentNode, gpuUnfit } from './recurrent-gpu.js';
import { type OnnxModelProto, type OnnxNodeProto, type OnnxValueInfoProto, decodeModel } from './schema.js';
import { type OnnxValue, floatValue, intValue, typeName, valueFromProto } from './values.js';

export interface OnnxIo {
  name: string;
  /** Declared dimensions: a size, a symbolic name (a dynamic axis), or null when unknown. */
  shape: Array<number | string | null>;
  /** The element type, e.g. FLOAT, INT32, INT64. */
  type: string;
}

export interface OnnxModel {
  readonly backend: Backend;
  readonly inputs: readonly OnnxIo[];
  readonly outputs: readonly OnnxIo[];
  /** The file's metadata_props (the exports store the configuration, and whatever metadata they were given). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Where each recurrent node runs: the engine ('webgpu' or 'cpu'), or the float64 ONNX path and why. */
  readonly placement: ReadonlyArray<{ node: string; op: RecurrentOp; runsOn: string }>;
  /** Runs the graph: a tensor per graph input by name; every graph output by name (floats F32, integers I32). */
  run(feeds: Record<string, Tensor | IntTensor>): Promise<Record<string, Tensor | IntTensor>>;
  destroy(): void;
}

export interface LoadOnnxOptions {
  backend?: Backend | 'auto';
  device?: GPUDevice;
}

const RECURRENT = new Set(['LSTM', 'GRU', 'RNN']);
const RECURRENT_ATTRIBUTES = new Set(['hidden_size', 'direction', 'layout', 'activations', 'activation_alpha', 'activation_beta', 'clip', 'input_forget', 'linear_before_reset']);

function ioOf(v: OnnxValueInfoProto): OnnxIo {
  const t = v.type?.tensor_type;
  return {
    name: v.name ?? '',
    shape: (t?.shape?.dim ?? []).map((d) => (d.dim_value !== undefined ? Number(d.dim_value) : d.dim_param ?? null)),
    type: typeName(t?.elem_type),
  };
}

/** A recurrent node's attributes, checked; problems go to `problems`. */
function recurrentAttributes(op: RecurrentOp, node: OnnxNodeProto, label: string, problems: string[]): RecurrentAttributes {
  const attrs = new Attributes(op, node.attribute);
  for (const name of attrs.names()) if (!RECURRENT_ATTRIBUTES.has(name) || (name === 'input_forget' && op !== 'LSTM') || (name === 'linear_before_reset' && op !== 'GRU')) problems.push(`${label}: unknown attribute ${name}`);
  const direction = attrs.string('direction', 'forward');
  if (!['forward', 'reverse', 'bidirectional'].includes(direction)) problems.push(`${label}: direction "${direction}" (forward, reverse or bidirectional)`);
  const layout = attrs.int('layout', 0);
  if (layout !== 0 && layout !== 1) problems.push(`${label}: layout ${layout} (0 or 1)`);
  const hidden = attrs.int('hidden_size', 0);
  if (!(hidden > 0)) problems.push(`${label}: hidden_size ${hidden} (a positive integer is required)`);
  const activations = attrs.strings('activations');
  for (const a of activations) if (!activationName(a)) problems.push(`${label}: activation "${a}"`);
  return {
    hidden_size: hidden, direction: direction as RecurrentAttributes['direction'], layout: layout as 0 | 1, activations,
    activation_alpha: attrs.floats('activation_alpha'), activation_beta: attrs.floats('activation_beta'), clip: attrs.float('clip'),
    input_forget: attrs.int('input_forget', 0), linear_before_reset: attrs.int('linear_before_reset', 0),
  };
}

interface Step {
  node: OnnxNodeProto;
  label: string;
  /** A recurrent node: on the engine (`engine`: made at load, or at each run when its weights are graph inputs) or not. */
  recurrent?: { op: RecurrentOp; attrs: RecurrentAttributes; engine: boolean; gpu?: GpuRecurrentNode };
  attrs: Attributes;
}

export async function loadOnnx(bytes: Uint8Array, options: LoadOnnxOptions = {}): Promise<OnnxModel> {
  const o = checkOptions<LoadOnnxOptions>('loadOnnx options', options, ['backend', 'device']);
  if (!(bytes instanceof Uint8Array)) throw new RnnError('ONNX_INVALID', `loadOnnx: expected the file's bytes as a Uint8Array, got ${describeValue(bytes)}`);
  let model: OnnxModelProto;
  try {
    model = await decodeModel(bytes);
  } catch (e) {
    throw new RnnError('ONNX_INVALID', `not an ONNX model: ${(e as Error).message}`, { cause: e });
  }
  const graph = model.graph;
  if (!graph) throw new RnnError('ONNX_INVALID', 'the model has no graph');
  const opset = model.opset_import?.find((s) => !s.domain || s.domain === 'ai.onnx')?.version ?? 0;
  if (!opset) throw new RnnError('ONNX_INVALID', 'the model imports no version of the default operator set (ai.onnx)');
  let backend = o.backend ?? 'auto';
  if (backend === 'auto') backend = await contextFor(o.device).then(() => 'webgpu' as const, () => 'cpu' as const);
  if (backend !== 'webgpu' && backend !== 'cpu') throw new RnnError('OPTION_INVALID', `loadOnnx options.backend: expected "webgpu", "cpu" or "auto", got ${describeValue(o.backend)}`);

  const constants = new Map<string, OnnxValue>();
  for (const t of graph.initializer ?? []) constants.set(t.name ?? '', valueFromProto(t, `initializer ${t.name}`));
  const inputs = (graph.input ?? []).filter((i) => !constants.has(i.name ?? '')).map(ioOf);
  const outputs = (graph.output ?? []).map(ioOf);

  // Every node checked before anything runs; all problems reported at once.
  const problems: string[] = [];
  const steps: Step[] = (graph.node ?? []).map((node, i) => {
    const op = node.op_type ?? '';
    const label = `node ${node.name || i} (${op})`;
    if (node.domain && node.domain !== 'ai.onnx') problems.push(`${label}: domain ${node.domain}`);
    else if (RECURRENT.has(op)) return { node, label, attrs: new Attributes(op, node.attribute), recurrent: { op: op as RecurrentOp, attrs: recurrentAttributes(op as RecurrentOp, node, label, problems), engine: false } };
    else if (!OPS[op]) problems.push(`${label}: operator ${op}`);
    return { node, label, attrs: new Attributes(op, node.attribute) };
  });
  if (problems.length) throw new RnnError('ONNX_UNSUPPORTED', `this ONNX model uses what webgpu-rnn does not run:\n  ${problems.join('\n  ')}\n(supported: LSTM, GRU, RNN, ${Object.keys(OPS).join(', ')})`);

  // Place the recurrent nodes: the engine where it computes the node's equations, else float64.
  const placement: Array<{ node: string; op: RecurrentOp; runsOn: string }> = [];
  const made: GpuRecurrentNode[] = [];
  try {
    for (const s of steps) {
      if (!s.recurrent) continue;
      const [, W, R, B, , , , P] = Array.from({ length: 8 }, (_, k) => s.node.input?.[k] ?? '');
      const constant = (name: string) => (name ? constants.get(name) : undefined);
      // Peepholes computed in the graph cannot be known to be zero: they count as peepholes.
      const peepholes = P ? constant(P) ?? floatValue([1], [1]) : undefined;
      const why = gpuUnfit(s.recurrent.op, s.recurrent.attrs, peepholes);
      const constantWeights = !!constant(W) && !!constant(R) && (!B || !!constant(B));
      s.recurrent.engine = !why;
      if (!why && constantWeights) {
        s.recurrent.gpu = await GpuRecurrentNode.create(s.recurrent.op, s.recurrent.attrs, constant(W)!, constant(R)!, constant(B), backend, o.device);
        made.push(s.recurrent.gpu);
      }
      placement.push({ node: s.label, op: s.recurrent.op, runsOn: why ? `float64 ONNX path (${why})` : constantWeights ? backend : `${backend} (weights are graph inputs: uploaded at each run)` });
    }
  } catch (e) {
    for (const g of made) g.destroy();
    throw e;
  }
  let destroyed = false;

  const run = async (feeds: Record<string, Tensor | IntTensor>): Promise<Record<string, Tensor | IntTensor>> => {
    if (destroyed) throw new RnnError('DESTROYED', 'ONNX model: used after destroy()');
    if (feeds === null || typeof feeds !== 'object') throw new RnnError('TENSOR_INVALID', `feeds: expected tensors by input name, got ${describeValue(feeds)}`);
    const values = new Map(constants);
    for (const name of Object.keys(feeds)) if (!inputs.some((i) => i.name === name)) throw new RnnError('TENSOR_INVALID', `feeds: unknown input "${name}" (the graph's inputs: ${inputs.map((i) => i.name).join(', ')})`);
    for (const io of inputs) {
      const t = feeds[io.name];
      if (t === undefined) throw new RnnError('TENSOR_INVALID', `feeds: missing input "${io.name}" (${io.type} [${io.shape.map((d) => d ?? '?').join(', ')}])`);
      const isInt = /INT|BOOL/.test(io.type);
      const v = isInt ? checkIntTensor(`input ${io.name}`, t) : checkFloatTensor(`input ${io.name}`, t);
      if (v.shape.length !== io.shape.length && io.shape.length) throw new RnnError('TENSOR_INVALID', `input ${io.name}: expected ${io.shape.length} dimensions [${io.shape.map((d) => d ?? '?').join(', ')}], got [${v.shape.join(', ')}]`);
      io.shape.forEach((d, k) => {
        if (typeof d === 'number' && d !== v.shape[k]) throw new RnnError('TENSOR_INVALID', `input ${io.name}: dimension ${k} must be ${d}, got [${v.shape.join(', ')}]`);
      });
      values.set(io.name, isInt ? intValue(v.shape, Array.from(v.data, Number)) : floatValue(v.shape, v.data as ArrayLike<number>));
    }
    for (const s of steps) {
      const args = (s.node.input ?? []).map((name) => {
        if (!name) return undefined;
        const v = values.get(name);
        if (!v) throw new RnnError('ONNX_INVALID', `${s.label}: input "${name}" is produced by no node, initializer or graph input before it`);
        return v;
      });
      let results: Array<OnnxValue | undefined>;
      if (s.recurrent) {
        const [X, W, R, B, lens, h0, c0, P] = args;
        if (!X || !W || !R) throw new RnnError('ONNX_INVALID', `${s.label}: X, W and R are required`);
        const engine = s.recurrent.engine && !(lens && lens.data.some((l) => l === 0)); // the engine's lengths start at 1
        let r: { Y: OnnxValue; Y_h: OnnxValue; Y_c?: OnnxValue };
        if (!engine) {
          r = runRecurrent(s.recurrent.op, s.recurrent.attrs, { X, W, R, B, sequence_lens: lens, initial_h: h0, initial_c: c0, P });
        } else if (s.recurrent.gpu) {
          r = await s.recurrent.gpu.run(X, lens, h0, c0);
        } else {
          const once = await GpuRecurrentNode.create(s.recurrent.op, s.recurrent.attrs, W, R, B, backend, o.device);
          try {
            r = await once.run(X, lens, h0, c0);
          } finally {
            once.destroy();
          }
        }
        results = [r.Y, r.Y_h, r.Y_c];
      } else {
        results = OPS[s.node.op_type!](args, s.attrs, opset);
      }
      (s.node.output ?? []).forEach((name, k) => {
        if (name && results[k]) values.set(name, results[k]!);
      });
    }
    const out: Record<string, Tensor | IntTensor> = {};
    for (const io of outputs) {
      const v = values.get(io.name);
      if (!v) throw new RnnError('ONNX_INVALID', `graph output "${io.name}" is produced by no node`);
      out[io.name] = v.kind === 'int' ? { shape: [...v.dims], data: Int32Array.from(v.data) } : { shape: [...v.dims], data: Float32Array.from(v.data) };
    }
    return out;
  };

  return {
    backend, inputs, outputs, placement, run,
    metadata: Object.fromEntries((model.metadata_props ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
    destroy() {
      destroyed = true;
      for (const g of made) g.destroy();
    },
  };
}
