/**
 * Writing ONNX files (protobufjs encodes, schema.ts): a small graph builder, and the exports —
 *   exportRnnOnnx      an RNN / LSTM / GRU module (PyTorch configuration and state_dict) as the graph
 *                      torch.onnx.export makes of it: inputs `input` (and `h0`, `c0`), outputs `output`,
 *                      `h_n` (and `c_n`), one ONNX recurrent node per layer and direction pair, dynamic
 *                      `seq` and `batch` axes (batch_first honoured);
 *   exportModelOnnx    the trainable model of the training API (embedding → rnn → head): `input` or
 *                      `tokens`, output `output` (the head's, or the last layer's) — with the head on
 *                      h_n, the concatenation of the last layer's final states.
 * Gate blocks go from PyTorch's order to ONNX's with recurrent-gpu.ts's table. ONNX Runtime runs the
 * files (test/onnx/export.test.ts).
 */
import { type RnnConfig, type RnnConfigInput, numDirections, outputSize, resolveConfig } from '../config.js';
import { RnnError, describeValue } from '../errors.js';
import { checkOptions } from '../inputs.js';
import { type Weights, checkWeights, layerInputSize, paramName } from '../params.js';
import type { Tensor } from '../tensor.js';
import { type ModelConfigInput, resolveModelConfig } from '../train/config.js';
import { modelParameterSpecs } from '../train/model.js';
import { loadTrainingWeights } from '../train/weights.js';
import { GATES, type RecurrentOp } from './recurrent.js';
import { PYTORCH_FROM_ONNX_GATES } from './recurrent-gpu.js';
import { AttributeType, DataType, type OnnxAttributeProto, type OnnxNodeProto, type OnnxTensorProto, type OnnxValueInfoProto, encodeModel } from './schema.js';
import { type OnnxValue, floatValue, intValue, protoFromValue } from './values.js';

/** The operator set written (LSTM / GRU / RNN with `layout`, Squeeze / Unsqueeze with axes as an input). */
export const EXPORT_OPSET = 14;
const IR_VERSION = 7;

type AttributeValue = number | string | number[] | string[] | { floats: number[] } | { tensor: OnnxValue };

function attribute(name: string, v: AttributeValue): OnnxAttributeProto {
  const utf8 = (s: string) => new TextEncoder().encode(s);
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: utf8(v) };
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: AttributeType.INT, i: v } : { name, type: AttributeType.FLOAT, f: v };
  if ('tensor' in v) return { name, type: AttributeType.TENSOR, t: protoFromValue(name, v.tensor) };
  if (!Array.isArray(v)) return { name, type: AttributeType.FLOATS, floats: v.floats };
  if (v.every((x) => typeof x === 'string')) return { name, type: AttributeType.STRINGS, strings: (v as string[]).map(utf8) };
  return { name, type: AttributeType.INTS, ints: v as number[] };
}

/** A graph being written: nodes, initializers, inputs and outputs with (possibly symbolic) shapes. */
export class GraphBuilder {
  readonly nodes: OnnxNodeProto[] = [];
  readonly initializers: OnnxTensorProto[] = [];
  readonly inputs: OnnxValueInfoProto[] = [];
  readonly outputs: OnnxValueInfoProto[] = [];
  private names = 0;

  /** `opset`: the default domain's version the file imports (the exports write EXPORT_OPSET). */
  constructor(readonly opset = EXPORT_OPSET) {}

  /** A fresh value name. */
  name(hint: string): string {
    return `${hint}_${this.names++}`;
  }

  node(op: string, inputs: string[], outputs: string[], attributes: Record<string, AttributeValue> = {}): string[] {
    this.nodes.push({
      op_type: op,
      name: this.name(op),
      input: inputs,
      output: outputs,
      attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  /** One output, named after the operator. */
  op(op: string, inputs: string[], attributes: Record<string, AttributeValue> = {}): string {
    return this.node(op, inputs, [this.name(op.toLowerCase())], attributes)[0];
  }

  floats(hint: string, dims: number[], data: ArrayLike<number>): string {
    const name = this.name(hint);
    this.initializers.push(protoFromValue(name, floatValue(dims, data)));
    return name;
  }

  ints(hint: string, data: number[]): string {
    const name = this.name(hint);
    this.initializers.push(protoFromValue(name, intValue([data.length], data)));
    return name;
  }

  io(list: 'inputs' | 'outputs', name: string, type: number, dims: Array<number | string>): void {
    this[list].push({
      name,
      type: { tensor_type: { elem_type: type, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
    });
  }

  /** The model file: this graph, the exported opset, and `metadata` as the model's metadata_props. */
  bytes(graphName: string, metadata: Record<string, string> = {}): Promise<Uint8Array> {
    return encodeModel({
      ir_version: IR_VERSION,
      producer_name: 'webgpu-rnn',
      opset_import: [{ domain: '', version: this.opset }],
      metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      graph: { name: graphName, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
  }
}

/** Metadata as given: string values only. */
function checkMetadata(what: string, metadata: unknown): Record<string, string> {
  if (metadata === undefined) return {};
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))
    throw new RnnError('OPTION_INVALID', `${what}: expected an object of strings, got ${describeValue(metadata)}`);
  for (const [k, v] of Object.entries(metadata))
    if (typeof v !== 'string') throw new RnnError('OPTION_INVALID', `${what}.${k}: expected a string, got ${describeValue(v)}`);
  return metadata as Record<string, string>;
}

const onnxOp = (mode: RnnConfig['mode']): RecurrentOp => (mode === 'LSTM' ? 'LSTM' : mode === 'GRU' ? 'GRU' : 'RNN');

/** PyTorch gate blocks of `src` (G·H rows of `cols`) in ONNX's order. */
function onnxGates(op: RecurrentOp, src: ArrayLike<number>, H: number, cols: number): Float32Array {
  const order = PYTORCH_FROM_ONNX_GATES[op];
  const out = new Float32Array(order.length * H * cols);
  order.forEach((from, to) => {
    for (let i = 0; i < H * cols; i++) out[from * H * cols + i] = src[to * H * cols + i];
  });
  return out;
}

/**
 * The recurrent layers on `x` (time-major (seq, batch, features)); returns the last layer's output
 * (seq, batch, D·H_out) and each layer's final states (D, batch, H) for h_n / c_n. Projection
 * (proj_size) has no ONNX equivalent: refused.
 */
function recurrentLayers(
  g: GraphBuilder,
  config: RnnConfig,
  weights: Weights,
  x: string,
  states: { h0?: string; c0?: string; lengths?: string } = {},
): { y: string; hn: string[]; cn: string[] } {
  const { h0, c0, lengths } = states;
  if (config.proj_size > 0) throw new RnnError('CONFIG_INVALID', 'export to ONNX: proj_size has no ONNX equivalent (ONNX LSTM has no projection)');
  const op = onnxOp(config.mode);
  const D = numDirections(config);
  const H = config.hidden_size;
  const G = GATES[op];
  const hn: string[] = [];
  const cn: string[] = [];
  let input = x;
  for (let l = 0; l < config.num_layers; l++) {
    const I = layerInputSize(config, l);
    const W = new Float32Array(D * G * H * I);
    const R = new Float32Array(D * G * H * H);
    const B = new Float32Array(D * 2 * G * H);
    for (let d = 0; d < D; d++) {
      const get = (kind: 'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh') => weights[paramName(kind, l, d)]?.data;
      W.set(onnxGates(op, get('weight_ih')!, H, I), d * G * H * I);
      R.set(onnxGates(op, get('weight_hh')!, H, H), d * G * H * H);
      if (config.bias) {
        B.set(onnxGates(op, get('bias_ih')!, H, 1), d * 2 * G * H);
        B.set(onnxGates(op, get('bias_hh')!, H, 1), d * 2 * G * H + G * H);
      }
    }
    // This layer's slice of h0 / c0: (L·D, batch, H) rows l·D … l·D + D − 1.
    const state = (s?: string) => s && g.op('Slice', [s, g.ints('starts', [l * D]), g.ints('ends', [(l + 1) * D]), g.ints('axes', [0])]);
    const outs = [g.name('y'), g.name('h'), ...(op === 'LSTM' ? [g.name('c')] : [])];
    g.node(
      op,
      [
        input,
        g.floats('W', [D, G * H, I], W),
        g.floats('R', [D, G * H, H], R),
        g.floats('B', [D, 2 * G * H], B),
        lengths ?? '',
        state(h0) ?? '',
        ...(op === 'LSTM' ? [state(c0) ?? ''] : []),
      ],
      outs,
      {
        hidden_size: H,
        direction: D === 2 ? 'bidirectional' : 'forward',
        ...(op === 'RNN' ? { activations: Array.from({ length: D }, () => (config.mode === 'RNN_RELU' ? 'Relu' : 'Tanh')) } : {}),
        ...(op === 'GRU' ? { linear_before_reset: 1 } : {}),
      },
    );
    hn.push(outs[1]);
    if (op === 'LSTM') cn.push(outs[2]);
    // Y (seq, D, batch, H) → (seq, batch, D·H): one direction squeezes axis 1; two go (seq, batch, D, H) first.
    input =
      D === 1
        ? g.op('Squeeze', [outs[0], g.ints('axes', [1])])
        : g.op('Reshape', [g.op('Transpose', [outs[0]], { perm: [0, 2, 1, 3] }), g.ints('shape', [0, 0, -1])]);
  }
  return { y: input, hn, cn };
}

export interface ExportRnnOnnxOptions {
  /** Graph inputs `h0` (and `c0` for an LSTM), as PyTorch's forward takes them; false: zero initial states, no such inputs. Default true. */
  initialStates?: boolean;
  /**
   * A graph input `lengths` (int32 [batch], ONNX's sequence_lens): each sequence's length, as a packed
   * batch gives them — outputs past a sequence's end are zero, h_n / c_n are taken at its last step,
   * the reverse direction starts there. Default false (every sequence runs the whole `seq`).
   */
  lengths?: boolean;
  /** Key–value strings stored as the model's metadata_props (loadOnnx gives them back as `metadata`). */
  metadata?: Record<string, string>;
}

/**
 * An RNN module (PyTorch's configuration and state_dict) as an ONNX file, as torch.onnx.export names
 * things: inputs `input` (and `h0`, `c0`), outputs `output`, `h_n` (and `c_n`).
 */
export async function exportRnnOnnx(configInput: RnnConfigInput, weights: Weights, options: ExportRnnOnnxOptions = {}): Promise<Uint8Array> {
  const o = checkOptions<ExportRnnOnnxOptions>('exportRnnOnnx options', options, ['initialStates', 'lengths', 'metadata']);
  const metadata = checkMetadata('exportRnnOnnx options.metadata', o.metadata);
  const config = resolveConfig(configInput);
  if (weights === null || typeof weights !== 'object')
    throw new RnnError('WEIGHTS_INVALID', `weights: expected tensors by name, got ${describeValue(weights)}`);
  checkWeights(config, weights);
  const g = new GraphBuilder();
  const D = numDirections(config);
  const LD = config.num_layers * D;
  const bf = config.batch_first;
  g.io('inputs', 'input', DataType.FLOAT, bf ? ['batch', 'seq', config.input_size] : ['seq', 'batch', config.input_size]);
  const states = o.initialStates ?? true;
  if (states) g.io('inputs', 'h0', DataType.FLOAT, [LD, 'batch', outputSize(config)]);
  if (states && config.mode === 'LSTM') g.io('inputs', 'c0', DataType.FLOAT, [LD, 'batch', config.hidden_size]);
  const x = bf ? g.op('Transpose', ['input'], { perm: [1, 0, 2] }) : 'input';
  if (o.lengths) g.io('inputs', 'lengths', DataType.INT32, ['batch']);
  const { y, hn, cn } = recurrentLayers(g, config, weights, x, {
    h0: states ? 'h0' : undefined,
    c0: states && config.mode === 'LSTM' ? 'c0' : undefined,
    lengths: o.lengths ? 'lengths' : undefined,
  });
  g.node('Identity', [bf ? g.op('Transpose', [y], { perm: [1, 0, 2] }) : y], ['output']);
  g.node(hn.length > 1 ? 'Concat' : 'Identity', hn, ['h_n'], hn.length > 1 ? { axis: 0 } : {});
  if (cn.length) g.node(cn.length > 1 ? 'Concat' : 'Identity', cn, ['c_n'], cn.length > 1 ? { axis: 0 } : {});
  g.io('outputs', 'output', DataType.FLOAT, bf ? ['batch', 'seq', D * outputSize(config)] : ['seq', 'batch', D * outputSize(config)]);
  g.io('outputs', 'h_n', DataType.FLOAT, [LD, 'batch', outputSize(config)]);
  if (config.mode === 'LSTM') g.io('outputs', 'c_n', DataType.FLOAT, [LD, 'batch', config.hidden_size]);
  return g.bytes(`webgpu-rnn ${config.mode}`, { config: JSON.stringify(config), ...metadata });
}

export interface ExportModelOnnxOptions {
  /** A graph input `lengths` (int32 [batch]) as for exportRnnOnnx: packed semantics, and the h_n head reads each sequence's last step. */
  lengths?: boolean;
  /** Key–value strings stored as the model's metadata_props, e.g. a language model's vocabulary. */
  metadata?: Record<string, string>;
}

/**
 * The training API's model (src/train/config.ts) with its parameters by state_dict name (tensors, or a
 * safetensors file such as trainer.stateDict() writes) as an ONNX file: `tokens` (int64 ids) or
 * `input`, time-major unless batch_first, to `output` — what trainer.predict returns (the head's
 * logits or values; the last layer's output without a head). Initial states are zeros.
 */
export async function exportModelOnnx(
  modelInput: ModelConfigInput,
  weights: Record<string, Tensor> | Uint8Array,
  options: ExportModelOnnxOptions = {},
): Promise<Uint8Array> {
  const o = checkOptions<ExportModelOnnxOptions>('exportModelOnnx options', options, ['lengths', 'metadata']);
  const metadata = checkMetadata('exportModelOnnx options.metadata', o.metadata);
  const model = resolveModelConfig(modelInput);
  const checked = loadTrainingWeights(model, weights);
  const params: Record<string, Tensor> = Object.fromEntries(modelParameterSpecs(model).map((s) => [s.name, { shape: [...s.shape], data: checked[s.name] }]));
  const g = new GraphBuilder();
  const rnn = model.rnn;
  const bf = rnn.batch_first;
  const lead = bf ? ['batch', 'seq'] : ['seq', 'batch'];
  let x: string;
  if (model.embedding) {
    g.io('inputs', 'tokens', DataType.INT64, lead);
    const table = params['embedding.weight'];
    x = g.op('Gather', [g.floats('embedding', [...table.shape], table.data), 'tokens'], { axis: 0 });
  } else {
    g.io('inputs', 'input', DataType.FLOAT, [...lead, rnn.input_size]);
    x = 'input';
  }
  if (bf) x = g.op('Transpose', [x], { perm: [1, 0, 2] });
  const rnnWeights: Record<string, Tensor> = Object.fromEntries(
    Object.entries(params)
      .filter(([k]) => k.startsWith('rnn.'))
      .map(([k, v]) => [k.slice(4), v]),
  );
  if (o.lengths) g.io('inputs', 'lengths', DataType.INT32, ['batch']);
  const { y, hn } = recurrentLayers(g, rnn, rnnWeights, x, { lengths: o.lengths ? 'lengths' : undefined });
  const D = numDirections(rnn);
  const F = D * outputSize(rnn);
  let out = y;
  let dims: Array<number | string> = bf ? ['batch', 'seq', F] : ['seq', 'batch', F];
  if (model.head) {
    const W = params['head.weight'];
    const [O] = W.shape;
    const Wt = new Float32Array(F * O);
    for (let r = 0; r < O; r++) for (let f = 0; f < F; f++) Wt[f * O + r] = W.data[r * F + f];
    let headIn = y;
    if (model.head.on === 'h_n') {
      // cat(h_n[−D:]): the last layer's final states (D, batch, H) → (batch, D·H)
      headIn = g.op('Reshape', [g.op('Transpose', [hn[hn.length - 1]], { perm: [1, 0, 2] }), g.ints('shape', [0, -1])]);
    }
    out = g.op('MatMul', [headIn, g.floats('head_weight', [F, O], Wt)]);
    if (params['head.bias']) out = g.op('Add', [out, g.floats('head_bias', [O], params['head.bias'].data)]);
    dims = model.head.on === 'h_n' ? ['batch', O] : bf ? ['batch', 'seq', O] : ['seq', 'batch', O];
  }
  if (bf && (!model.head || model.head.on === 'output')) out = g.op('Transpose', [out], { perm: [1, 0, 2] });
  g.node('Identity', [out], ['output']);
  g.io('outputs', 'output', DataType.FLOAT, dims);
  return g.bytes('webgpu-rnn model', { model: JSON.stringify(model), ...metadata });
}
