/**
 * An ONNX model of a PyTorch LSTM / GRU, built from the configuration and the state_dict, for
 * running the same network on ONNX Runtime. Written with a small protobuf encoder of our own (only
 * the onnx.proto messages and fields the model needs), so no ONNX or protobuf package is required.
 *
 * Graph (opset 14, one node per layer, time-major):
 *   X (T, B, I) → LSTM|GRU → Y_l (T, D, B, H) → [Transpose (T, B, D, H) when D = 2] → Reshape (T, B, D·H) → next layer …
 * and the last layer's (T, B, D·H) is the graph output Y. T and B are symbolic, so one model serves
 * every batch and length. The model always takes time-major X: PyTorch's `batch_first` describes
 * how a caller lays out its tensors, not the network, and is not part of the export.
 *
 * Weights, per layer and direction d (initializers, float32 raw_data):
 *   W (D, G·H, I_l) = weight_ih, R (D, G·H, H) = weight_hh, B (D, 2·G·H) = [bias_ih, bias_hh],
 * with the gate blocks reordered: ONNX LSTM gates are i,o,f,c (PyTorch i,f,g,o) and ONNX GRU gates
 * z,r,h (PyTorch r,z,n). PyTorch's GRU applies the reset gate after the recurrent product, which is
 * ONNX GRU with linear_before_reset = 1.
 */
import { type RnnConfig, gateCount, numDirections } from '../../config.js';
import { type Weights, checkWeights, layerInputSize, paramName } from '../../params.js';
import type { TensorData } from '../../tensor.js';

/** Name of the graph input: (T, B, input_size), float32. */
export const ONNX_INPUT_NAME = 'X';
/** Name of the graph output: (T, B, D·hidden_size), float32. */
export const ONNX_OUTPUT_NAME = 'Y';
/** The operator set the model imports (LSTM-14 and GRU-14 carry the `layout` attribute). */
export const ONNX_OPSET = 14;
/** IR version that goes with opset 14 (ONNX 1.9). */
const ONNX_IR_VERSION = 7;

// ---------------------------------------------------------------------------------------------------
// Protobuf encoding: varints and length-delimited fields (developers.google.com/protocol-buffers/docs/encoding).

/** Wire type 0: int32, int64, uint64, bool, enum. */
const WIRE_VARINT = 0;
/** Wire type 2: string, bytes, embedded message. */
const WIRE_LEN = 2;

/**
 * Base-128 varint of an integer: 7 bits a byte, least significant first, the high bit set on all but
 * the last. Negative values are encoded as their 64-bit two's complement (10 bytes), as protobuf
 * does for int64.
 */
export function encodeVarint(value: number | bigint): Uint8Array {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new RangeError(`encodeVarint: expected a safe integer, got ${value}`);
  }
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

const utf8 = new TextEncoder();

/** Writes one protobuf message, field by field, in the order written. */
export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  /** A varint field (int32, int64, enum). */
  varint(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    return this.append(encodeVarint(value));
  }

  /** A length-delimited field holding raw bytes. */
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.append(encodeVarint(data.length));
    return this.append(data);
  }

  /** A string field (UTF-8). */
  string(field: number, text: string): this {
    return this.bytes(field, utf8.encode(text));
  }

  /** An embedded message field. */
  message(field: number, inner: ProtoWriter): this {
    return this.bytes(field, inner.finish());
  }

  /** The encoded message. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  private tag(field: number, wire: number): void {
    if (!Number.isInteger(field) || field < 1) throw new RangeError(`ProtoWriter: invalid field number ${field}`);
    this.append(encodeVarint(field * 8 + wire));
  }

  private append(bytes: Uint8Array): this {
    this.parts.push(bytes);
    this.size += bytes.length;
    return this;
  }
}

// ---------------------------------------------------------------------------------------------------
// onnx.proto (github.com/onnx/onnx/blob/main/onnx/onnx.proto): field numbers of the fields we write.

/** ModelProto: ir_version = 1, producer_name = 2, graph = 7, opset_import = 8. */
const ModelProtoField = { ir_version: 1, producer_name: 2, graph: 7, opset_import: 8 } as const;
/** OperatorSetIdProto: domain = 1, version = 2. */
const OperatorSetIdField = { domain: 1, version: 2 } as const;
/** GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12. */
const GraphProtoField = { node: 1, name: 2, initializer: 5, input: 11, output: 12 } as const;
/** NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5. */
const NodeProtoField = { input: 1, output: 2, name: 3, op_type: 4, attribute: 5 } as const;
/** AttributeProto: name = 1, i = 3, s = 4, ints = 8, type = 20. */
const AttributeProtoField = { name: 1, i: 3, s: 4, ints: 8, type: 20 } as const;
/** AttributeProto.AttributeType: INT = 2, STRING = 3, INTS = 7. */
const AttributeType = { INT: 2, STRING: 3, INTS: 7 } as const;
/** TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9. */
const TensorProtoField = { dims: 1, data_type: 2, name: 8, raw_data: 9 } as const;
/** TensorProto.DataType: FLOAT = 1, INT64 = 7. */
const DataType = { FLOAT: 1, INT64: 7 } as const;
/** ValueInfoProto: name = 1, type = 2. */
const ValueInfoProtoField = { name: 1, type: 2 } as const;
/** TypeProto: tensor_type = 1. */
const TypeProtoField = { tensor_type: 1 } as const;
/** TypeProto.Tensor: elem_type = 1, shape = 2. */
const TypeProtoTensorField = { elem_type: 1, shape: 2 } as const;
/** TensorShapeProto: dim = 1; TensorShapeProto.Dimension: dim_value = 1, dim_param = 2. */
const TensorShapeField = { dim: 1 } as const;
const DimensionField = { dim_value: 1, dim_param: 2 } as const;

type Attribute = { name: string } & ({ i: number } | { s: string } | { ints: readonly number[] });

function attributeProto(a: Attribute): ProtoWriter {
  const w = new ProtoWriter().string(AttributeProtoField.name, a.name);
  if ('i' in a) return w.varint(AttributeProtoField.i, a.i).varint(AttributeProtoField.type, AttributeType.INT);
  if ('s' in a) return w.string(AttributeProtoField.s, a.s).varint(AttributeProtoField.type, AttributeType.STRING);
  // proto2 repeated scalars are unpacked: one field per element.
  for (const v of a.ints) w.varint(AttributeProtoField.ints, v);
  return w.varint(AttributeProtoField.type, AttributeType.INTS);
}

function nodeProto(opType: string, name: string, inputs: readonly string[], outputs: readonly string[], attributes: readonly Attribute[] = []): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of inputs) w.string(NodeProtoField.input, i);
  for (const o of outputs) w.string(NodeProtoField.output, o);
  w.string(NodeProtoField.name, name).string(NodeProtoField.op_type, opType);
  for (const a of attributes) w.message(NodeProtoField.attribute, attributeProto(a));
  return w;
}

function tensorProto(name: string, dims: readonly number[], dataType: number, raw: Uint8Array): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of dims) w.varint(TensorProtoField.dims, d);
  return w.varint(TensorProtoField.data_type, dataType).string(TensorProtoField.name, name).bytes(TensorProtoField.raw_data, raw);
}

/** A float32 tensor value description; string dimensions are symbolic (dim_param). */
function valueInfoProto(name: string, dims: readonly (number | string)[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) {
    const dim = typeof d === 'number' ? new ProtoWriter().varint(DimensionField.dim_value, d) : new ProtoWriter().string(DimensionField.dim_param, d);
    shape.message(TensorShapeField.dim, dim);
  }
  const tensorType = new ProtoWriter().varint(TypeProtoTensorField.elem_type, DataType.FLOAT).message(TypeProtoTensorField.shape, shape);
  const type = new ProtoWriter().message(TypeProtoField.tensor_type, tensorType);
  return new ProtoWriter().string(ValueInfoProtoField.name, name).message(ValueInfoProtoField.type, type);
}

/** Little-endian float32 bytes (TensorProto raw_data is always little-endian). */
function float32Raw(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i], true);
  return out;
}

function int64Raw(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true));
  return out;
}

// ---------------------------------------------------------------------------------------------------
// PyTorch → ONNX weights.

/** For each ONNX gate block, the PyTorch block it takes: LSTM i,o,f,c ← i,f,g,o; GRU z,r,h ← r,z,n. */
const ONNX_GATE_FROM_TORCH: Readonly<Record<'LSTM' | 'GRU', readonly number[]>> = {
  LSTM: [0, 3, 1, 2],
  GRU: [1, 0, 2],
};

/**
 * Copies a PyTorch (G·H, cols) matrix (or (G·H) bias, cols = 1) into `dst` at `offset` with its gate
 * blocks in ONNX order.
 */
function copyGatesOnnxOrder(src: TensorData, order: readonly number[], H: number, cols: number, dst: Float32Array, offset: number): void {
  const block = H * cols;
  order.forEach((torchGate, onnxGate) => {
    dst.set(src.subarray(torchGate * block, (torchGate + 1) * block), offset + onnxGate * block);
  });
}

interface OnnxLayerWeights {
  /** (D, G·H, I_l) */ W: Float32Array;
  /** (D, G·H, H) */ R: Float32Array;
  /** (D, 2·G·H), or undefined without bias */ B?: Float32Array;
}

function layerWeights(config: RnnConfig, weights: Weights, layer: number, order: readonly number[]): OnnxLayerWeights {
  const G = gateCount(config.mode);
  const H = config.hidden_size;
  const D = numDirections(config);
  const I = layerInputSize(config, layer);
  const W = new Float32Array(D * G * H * I);
  const R = new Float32Array(D * G * H * H);
  const B = config.bias ? new Float32Array(D * 2 * G * H) : undefined;
  for (let d = 0; d < D; d++) {
    const get = (kind: 'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh') => weights[paramName(kind, layer, d)].data;
    copyGatesOnnxOrder(get('weight_ih'), order, H, I, W, d * G * H * I);
    copyGatesOnnxOrder(get('weight_hh'), order, H, H, R, d * G * H * H);
    if (B) {
      copyGatesOnnxOrder(get('bias_ih'), order, H, 1, B, d * 2 * G * H); // Wb
      copyGatesOnnxOrder(get('bias_hh'), order, H, 1, B, d * 2 * G * H + G * H); // Rb
    }
  }
  return { W, R, B };
}

// ---------------------------------------------------------------------------------------------------

/**
 * Builds the ONNX model (serialized ModelProto) of a PyTorch LSTM or GRU: input X (T, B, I),
 * output Y (T, B, D·H), both float32 and time-major. Throws for RNN_TANH / RNN_RELU, proj_size > 0,
 * or weights that do not match the configuration.
 */
export function buildOnnxRnnModel(config: RnnConfig, weights: Weights): Uint8Array {
  const mode = config.mode;
  if (mode !== 'LSTM' && mode !== 'GRU') {
    throw new RangeError(`ONNX export: mode ${mode} is not supported (LSTM and GRU only)`);
  }
  if (config.proj_size > 0) throw new RangeError('ONNX export: LSTM with proj_size > 0 is not supported');
  checkWeights(config, weights);
  const H = config.hidden_size;
  const D = numDirections(config);
  const G = gateCount(mode);
  const order = ONNX_GATE_FROM_TORCH[mode];

  const graph = new ProtoWriter().string(GraphProtoField.name, `pytorch-${mode.toLowerCase()}`);
  const initializers: ProtoWriter[] = [];
  // Reshape target (T, B, D·H) from (T, 1, B, H) or (T, B, 2, H): 0 copies T (allowzero = 0), −1 infers B.
  const outShape = 'out_shape';
  initializers.push(tensorProto(outShape, [3], DataType.INT64, int64Raw([0, -1, D * H])));

  let x = ONNX_INPUT_NAME;
  for (let layer = 0; layer < config.num_layers; layer++) {
    const I = layerInputSize(config, layer);
    const w = layerWeights(config, weights, layer, order);
    const names = { W: `W_l${layer}`, R: `R_l${layer}`, B: `B_l${layer}` };
    initializers.push(tensorProto(names.W, [D, G * H, I], DataType.FLOAT, float32Raw(w.W)));
    initializers.push(tensorProto(names.R, [D, G * H, H], DataType.FLOAT, float32Raw(w.R)));
    if (w.B) initializers.push(tensorProto(names.B, [D, 2 * G * H], DataType.FLOAT, float32Raw(w.B)));

    const attributes: Attribute[] = [
      { name: 'hidden_size', i: H },
      { name: 'direction', s: D === 2 ? 'bidirectional' : 'forward' },
      { name: 'layout', i: 0 },
    ];
    if (mode === 'GRU') attributes.push({ name: 'linear_before_reset', i: 1 });
    const rnnInputs = w.B ? [x, names.W, names.R, names.B] : [x, names.W, names.R];
    const y = `Y_l${layer}`; // (T, D, B, H)
    graph.message(GraphProtoField.node, nodeProto(mode, `${mode.toLowerCase()}_l${layer}`, rnnInputs, [y], attributes));

    let tbdh = y;
    if (D === 2) {
      tbdh = `Y_l${layer}_tbdh`; // (T, B, D, H)
      graph.message(GraphProtoField.node, nodeProto('Transpose', `transpose_l${layer}`, [y], [tbdh], [{ name: 'perm', ints: [0, 2, 1, 3] }]));
    }
    const out = layer === config.num_layers - 1 ? ONNX_OUTPUT_NAME : `out_l${layer}`; // (T, B, D·H)
    graph.message(GraphProtoField.node, nodeProto('Reshape', `reshape_l${layer}`, [tbdh, outShape], [out]));
    x = out;
  }

  for (const init of initializers) graph.message(GraphProtoField.initializer, init);
  graph.message(GraphProtoField.input, valueInfoProto(ONNX_INPUT_NAME, ['T', 'B', config.input_size]));
  graph.message(GraphProtoField.output, valueInfoProto(ONNX_OUTPUT_NAME, ['T', 'B', D * H]));

  return new ProtoWriter()
    .varint(ModelProtoField.ir_version, ONNX_IR_VERSION)
    .string(ModelProtoField.producer_name, 'webgpu-rnn')
    .message(ModelProtoField.graph, graph)
    .message(ModelProtoField.opset_import, new ProtoWriter().string(OperatorSetIdField.domain, '').varint(OperatorSetIdField.version, ONNX_OPSET))
    .finish();
}
