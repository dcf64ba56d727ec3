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
import { GpuRecurrentNode, type OnnxLayerWeights, gpuUnfit } from './recurrent-gpu.js';
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
  /**
   * Where each recurrent node runs: the engine ('webgpu' or 'cpu'), or the float64 ONNX path and why.
   * Nodes PyTorch's exporter wrote for one multi-layer module run as one engine model: `stack` says
   * which layer of how many each is.
   */
  readonly placement: ReadonlyArray<Placement>;
  /** Runs the graph: a tensor per graph input by name; every graph output by name (floats F32, integers I32). */
  run(feeds: Record<string, Tensor | IntTensor>): Promise<Record<string, Tensor | IntTensor>>;
  destroy(): void;
}

export interface Placement {
  node: string;
  op: RecurrentOp;
  runsOn: string;
  stack?: { layer: number; layers: number };
}

export interface LoadOnnxOptions {
  backend?: Backend | 'auto';
  device?: GPUDevice;
}

const RECURRENT = new Set(['LSTM', 'GRU', 'RNN']);
const RECURRENT_ATTRIBUTES = new Set([
  'hidden_size',
  'direction',
  'layout',
  'activations',
  'activation_alpha',
  'activation_beta',
  'clip',
  'input_forget',
  'linear_before_reset',
]);

function ioOf(v: OnnxValueInfoProto): OnnxIo {
  const t = v.type?.tensor_type;
  return {
    name: v.name ?? '',
    shape: (t?.shape?.dim ?? []).map((d) => (d.dim_value !== undefined ? Number(d.dim_value) : (d.dim_param ?? null))),
    type: typeName(t?.elem_type),
  };
}

/** A recurrent node's attributes, checked; problems go to `problems`. */
function recurrentAttributes(op: RecurrentOp, node: OnnxNodeProto, label: string, problems: string[]): RecurrentAttributes {
  const attrs = new Attributes(op, node.attribute);
  for (const name of attrs.names())
    if (!RECURRENT_ATTRIBUTES.has(name) || (name === 'input_forget' && op !== 'LSTM') || (name === 'linear_before_reset' && op !== 'GRU'))
      problems.push(`${label}: unknown attribute ${name}`);
  const direction = attrs.string('direction', 'forward');
  if (!['forward', 'reverse', 'bidirectional'].includes(direction)) problems.push(`${label}: direction "${direction}" (forward, reverse or bidirectional)`);
  const layout = attrs.int('layout', 0);
  if (layout !== 0 && layout !== 1) problems.push(`${label}: layout ${layout} (0 or 1)`);
  const hidden = attrs.int('hidden_size', 0);
  if (!(hidden > 0)) problems.push(`${label}: hidden_size ${hidden} (a positive integer is required)`);
  const activations = attrs.strings('activations');
  for (const a of activations) if (!activationName(a)) problems.push(`${label}: activation "${a}"`);
  return {
    hidden_size: hidden,
    direction: direction as RecurrentAttributes['direction'],
    layout: layout as 0 | 1,
    activations,
    activation_alpha: attrs.floats('activation_alpha'),
    activation_beta: attrs.floats('activation_beta'),
    clip: attrs.float('clip'),
    input_forget: attrs.int('input_forget', 0),
    linear_before_reset: attrs.int('linear_before_reset', 0),
  };
}

interface Step {
  node: OnnxNodeProto;
  label: string;
  /** A recurrent node: on the engine (`engine`: made at load, or at each run when its weights are graph inputs) or not. */
  recurrent?: { op: RecurrentOp; attrs: RecurrentAttributes; engine: boolean; gpu?: GpuRecurrentNode };
  attrs: Attributes;
  /** Set on every step of a stack: its recurrent nodes and the glue between them. */
  stack?: Stack;
}

/**
 * Recurrent nodes that are the layers of one PyTorch module (node k's Y reaches node k + 1's X through
 * the exporter's Squeeze, or Transpose and Reshape, and nothing else reads it), run as one engine
 * model at the position of the last: one multi-layer forward, no host round trip between layers.
 */
interface StackPlan {
  /** Step indices of the recurrent nodes, in layer order. */
  members: number[];
  /** Step indices of the glue between them. */
  glue: number[];
  /** The last member's step index, where the stack runs. */
  last: number;
  /** The sequence_lens value all members take ('' for none). */
  lens: string;
}

interface Stack extends StackPlan {
  gpu: GpuRecurrentNode;
}

/** Lengths with a zero: the engine's lengths start at 1, so such a run takes the float64 path. */
const hasZero = (lens: OnnxValue | undefined) => !!lens && lens.data.some((l) => l === 0);

/**
 * The stacks in a graph: chains of recurrent nodes, each fit for the engine (`fits`), with the same
 * operator, attributes and sequence_lens, where node k's Y goes — only — through PyTorch's glue
 * (one direction: Squeeze of axis 1; two: Transpose [0, 2, 1, 3] then Reshape [0, 0, −1]) to node
 * k + 1's X. A stack runs at its last node's place, so every earlier node's Y_h / Y_c must be read
 * only after it.
 */
function findStacks(
  steps: readonly Step[],
  graphOutputs: readonly string[],
  initializers: ReadonlyMap<string, OnnxValue>,
  opset: number,
  fits: (s: Step) => boolean,
): StackPlan[] {
  // Constant values known at load: initializers and Constant nodes' outputs.
  const known = new Map(initializers);
  for (const s of steps) {
    if (s.node.op_type !== 'Constant') continue;
    try {
      known.set(s.node.output?.[0] ?? '', OPS.Constant([], s.attrs, opset)[0]);
    } catch {
      // a Constant this loader cannot read fails at run time, with its message
    }
  }
  const consumers = new Map<string, number[]>();
  steps.forEach((s, i) => (s.node.input ?? []).forEach((name) => name && consumers.set(name, [...(consumers.get(name) ?? []), i])));
  const outputs = new Set(graphOutputs);
  const onlyConsumer = (name: string | undefined) => {
    const c = name && !outputs.has(name) ? (consumers.get(name) ?? []) : [];
    return c.length === 1 ? c[0] : undefined;
  };
  const ints = (name: string | undefined) => (name ? Array.from(known.get(name)?.data ?? []) : undefined);
  const eligible = (i: number) => {
    const r = steps[i].recurrent;
    return !!r && r.attrs.layout === 0 && r.attrs.direction !== 'reverse' && fits(steps[i]);
  };
  /** Node i's Y to the next layer's X through the exporter's glue: the glue's steps and X's name. */
  const glueAfter = (i: number): { glue: number[]; x: string } | undefined => {
    const a = steps[i].recurrent!.attrs;
    const y = steps[i].node.output?.[0];
    const g1 = onlyConsumer(y);
    if (g1 === undefined || steps[g1].node.input?.[0] !== y) return undefined;
    const n1 = steps[g1];
    if (a.direction !== 'bidirectional') {
      const axes = opset >= 13 ? ints(n1.node.input?.[1]) : n1.attrs.ints('axes');
      return n1.node.op_type === 'Squeeze' && axes?.length === 1 && (axes[0] === 1 || axes[0] === -3)
        ? { glue: [g1], x: n1.node.output?.[0] ?? '' }
        : undefined;
    }
    if (n1.node.op_type !== 'Transpose' || n1.attrs.ints('perm')?.join() !== '0,2,1,3') return undefined;
    const g2 = onlyConsumer(n1.node.output?.[0]);
    if (g2 === undefined) return undefined;
    const n2 = steps[g2];
    const shape = ints(n2.node.input?.[1]);
    const flat = shape?.length === 3 && shape[0] === 0 && shape[1] === 0 && (shape[2] === -1 || shape[2] === 2 * a.hidden_size);
    return n2.node.op_type === 'Reshape' && n2.node.input?.[0] === n1.node.output?.[0] && flat && n2.attrs.int('allowzero', 0) === 0
      ? { glue: [g1, g2], x: n2.node.output?.[0] ?? '' }
      : undefined;
  };
  const same = (i: number, j: number) => {
    const [a, b] = [steps[i].recurrent!, steps[j].recurrent!];
    return (
      a.op === b.op &&
      a.attrs.hidden_size === b.attrs.hidden_size &&
      a.attrs.direction === b.attrs.direction &&
      a.attrs.activations.join() === b.attrs.activations.join() &&
      a.attrs.linear_before_reset === b.attrs.linear_before_reset &&
      (steps[i].node.input?.[4] ?? '') === (steps[j].node.input?.[4] ?? '')
    );
  };
  const plans: StackPlan[] = [];
  const taken = new Set<number>();
  for (let i = 0; i < steps.length; i++) {
    if (taken.has(i) || !eligible(i)) continue;
    const members = [i];
    const glue: number[] = [];
    for (;;) {
      const cur = members[members.length - 1];
      const next = glueAfter(cur);
      const j = next && onlyConsumer(next.x);
      if (!next || j === undefined || !eligible(j) || steps[j].node.input?.[0] !== next.x || !same(i, j)) break;
      members.push(j);
      glue.push(...next.glue);
    }
    const last = members[members.length - 1];
    const readLate = members
      .slice(0, -1)
      .every((m) => (steps[m].node.output ?? []).slice(1).every((name) => !name || (consumers.get(name) ?? []).every((c) => c > last)));
    if (members.length < 2 || !readLate) continue;
    members.forEach((m) => taken.add(m));
    plans.push({ members, glue, last, lens: steps[i].node.input?.[4] ?? '' });
  }
  return plans;
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
  if (backend === 'auto')
    backend = await contextFor(o.device).then(
      () => 'webgpu' as const,
      () => 'cpu' as const,
    );
  if (backend !== 'webgpu' && backend !== 'cpu')
    throw new RnnError('OPTION_INVALID', `loadOnnx options.backend: expected "webgpu", "cpu" or "auto", got ${describeValue(o.backend)}`);

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
    else if (RECURRENT.has(op))
      return {
        node,
        label,
        attrs: new Attributes(op, node.attribute),
        recurrent: { op: op as RecurrentOp, attrs: recurrentAttributes(op as RecurrentOp, node, label, problems), engine: false },
      };
    else if (!OPS[op]) problems.push(`${label}: operator ${op}`);
    return { node, label, attrs: new Attributes(op, node.attribute) };
  });
  if (problems.length)
    throw new RnnError(
      'ONNX_UNSUPPORTED',
      `this ONNX model uses what webgpu-rnn does not run:\n  ${problems.join('\n  ')}\n(supported: LSTM, GRU, RNN, ${Object.keys(OPS).join(', ')})`,
    );

  // Place the recurrent nodes: the engine where it computes the node's equations, else float64.
  const constant = (name: string | undefined) => (name ? constants.get(name) : undefined);
  const weightsOf = (s: Step) => {
    const [, W, R, B] = Array.from({ length: 4 }, (_, k) => s.node.input?.[k] ?? '');
    return { W: constant(W), R: constant(R), B: constant(B), constant: !!constant(W) && !!constant(R) && (!B || !!constant(B)) };
  };
  const unfit = new Map<Step, string | undefined>();
  for (const s of steps) {
    if (!s.recurrent) continue;
    const P = s.node.input?.[7];
    // Peepholes computed in the graph cannot be known to be zero: they count as peepholes.
    const why = gpuUnfit(s.recurrent.op, s.recurrent.attrs, P ? (constant(P) ?? floatValue([1], [1])) : undefined);
    unfit.set(s, why);
    s.recurrent.engine = !why;
  }
  const stacks = findStacks(
    steps,
    outputs.map((io) => io.name),
    constants,
    opset,
    (s) => !unfit.get(s) && weightsOf(s).constant,
  );
  const placement: Placement[] = [];
  const made: GpuRecurrentNode[] = [];
  try {
    for (const plan of stacks) {
      const members = plan.members.map((m) => steps[m]);
      const stack: Stack = {
        ...plan,
        gpu: await GpuRecurrentNode.create(
          members[0].recurrent!.op,
          members[0].recurrent!.attrs,
          members.map((m) => weightsOf(m) as OnnxLayerWeights),
          backend,
          o.device,
        ),
      };
      made.push(stack.gpu);
      for (const m of [...plan.members, ...plan.glue]) steps[m].stack = stack;
    }
    for (const s of steps) {
      if (!s.recurrent) continue;
      const why = unfit.get(s);
      const w = weightsOf(s);
      if (!why && w.constant && !s.stack) {
        s.recurrent.gpu = await GpuRecurrentNode.create(s.recurrent.op, s.recurrent.attrs, [w as OnnxLayerWeights], backend, o.device);
        made.push(s.recurrent.gpu);
      }
      const stack = s.stack && { layer: s.stack.members.indexOf(steps.indexOf(s)), layers: s.stack.members.length };
      placement.push({
        node: s.label,
        op: s.recurrent.op,
        runsOn: why ? `float64 ONNX path (${why})` : w.constant ? backend : `${backend} (weights are graph inputs: uploaded at each run)`,
        ...(stack ? { stack } : {}),
      });
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
    for (const name of Object.keys(feeds))
      if (!inputs.some((i) => i.name === name))
        throw new RnnError('TENSOR_INVALID', `feeds: unknown input "${name}" (the graph's inputs: ${inputs.map((i) => i.name).join(', ')})`);
    for (const io of inputs) {
      const t = feeds[io.name];
      if (t === undefined) throw new RnnError('TENSOR_INVALID', `feeds: missing input "${io.name}" (${io.type} [${io.shape.map((d) => d ?? '?').join(', ')}])`);
      const isInt = /INT|BOOL/.test(io.type);
      const v = isInt ? checkIntTensor(`input ${io.name}`, t) : checkFloatTensor(`input ${io.name}`, t);
      if (v.shape.length !== io.shape.length && io.shape.length)
        throw new RnnError(
          'TENSOR_INVALID',
          `input ${io.name}: expected ${io.shape.length} dimensions [${io.shape.map((d) => d ?? '?').join(', ')}], got [${v.shape.join(', ')}]`,
        );
      io.shape.forEach((d, k) => {
        if (typeof d === 'number' && d !== v.shape[k])
          throw new RnnError('TENSOR_INVALID', `input ${io.name}: dimension ${k} must be ${d}, got [${v.shape.join(', ')}]`);
      });
      values.set(io.name, isInt ? intValue(v.shape, Array.from(v.data, Number)) : floatValue(v.shape, v.data as ArrayLike<number>));
    }
    const inputValue = (s: Step, name: string | undefined) => {
      if (!name) return undefined;
      const v = values.get(name);
      if (!v) throw new RnnError('ONNX_INVALID', `${s.label}: input "${name}" is produced by no node, initializer or graph input before it`);
      return v;
    };
    const set = (name: string | undefined, v: OnnxValue | undefined) => name && v && values.set(name, v);
    /** A stack as one forward: the first layer's X and lengths, each layer's initial states; every layer's Y_h / Y_c, the last's Y. */
    const runStack = async (stack: Stack) => {
      const members = stack.members.map((m) => steps[m]);
      const input = (s: Step, k: number) => inputValue(s, s.node.input?.[k]);
      const r = await stack.gpu.run(
        input(members[0], 0)!,
        input(members[0], 4),
        members.map((m) => input(m, 5)),
        members.map((m) => input(m, 6)),
      );
      set(members[members.length - 1].node.output?.[0], r.Y);
      members.forEach((m, k) => {
        set(m.node.output?.[1], r.Y_h[k]);
        set(m.node.output?.[2], r.Y_c?.[k]);
      });
    };
    // Whether each stack runs as one this time: decided at its first step, where its lengths are known.
    const asOne = new Map<Stack, boolean>();
    for (const [i, s] of steps.entries()) {
      if (s.stack) {
        if (!asOne.has(s.stack)) asOne.set(s.stack, !hasZero(inputValue(s, s.stack.lens)));
        if (asOne.get(s.stack)) {
          if (i === s.stack.last) await runStack(s.stack);
          continue;
        }
      }
      const args = (s.node.input ?? []).map((name) => inputValue(s, name));
      let results: Array<OnnxValue | undefined>;
      if (s.recurrent) {
        const [X, W, R, B, lens, h0, c0, P] = args;
        if (!X || !W || !R) throw new RnnError('ONNX_INVALID', `${s.label}: X, W and R are required`);
        const engine = s.recurrent.engine && !hasZero(lens);
        let r: { Y: OnnxValue; Y_h: OnnxValue[]; Y_c?: OnnxValue[] };
        if (!engine) {
          const f = runRecurrent(s.recurrent.op, s.recurrent.attrs, { X, W, R, B, sequence_lens: lens, initial_h: h0, initial_c: c0, P });
          r = { Y: f.Y, Y_h: [f.Y_h], Y_c: f.Y_c && [f.Y_c] };
        } else if (s.recurrent.gpu) {
          r = await s.recurrent.gpu.run(X, lens, [h0], [c0]);
        } else {
          const once = await GpuRecurrentNode.create(s.recurrent.op, s.recurrent.attrs, [{ W, R, B }], backend, o.device);
          try {
            r = await once.run(X, lens, [h0], [c0]);
          } finally {
            once.destroy();
          }
        }
        results = [r.Y, r.Y_h[0], r.Y_c?.[0]];
      } else {
        results = OPS[s.node.op_type!](args, s.attrs, opset);
      }
      (s.node.output ?? []).forEach((name, k) => set(name, results[k]));
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
    backend,
    inputs,
    outputs,
    placement,
    run,
    metadata: Object.fromEntries((model.metadata_props ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
    destroy() {
      destroyed = true;
      for (const g of made) g.destroy();
    },
  };
}
