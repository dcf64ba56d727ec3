/**
 * ONNX's schema for this library: the messages of onnx/onnx.proto that a model file of recurrent
 * networks uses (proto/onnx.proto, with ONNX's field numbers), and the plain shapes the loader and the
 * exports work with. Decoding and encoding are protobufjs's static code generated from that file
 * (proto/onnx-proto.js, `npm run generate:onnx`) on protobufjs/minimal — a well-kept library, not a
 * hand-written codec, and no code generation at run time, so pages whose Content-Security-Policy
 * forbids eval load ONNX files too.
 *
 * protobufjs is bundled into the package (its licence: THIRD-PARTY-NOTICES.md) and the codec imported
 * on first use, so it is a separate chunk that an app which never touches ONNX does not load.
 */
import type { MessageCodec } from './proto/onnx-proto.js';

let codecs: Promise<{ ModelProto: MessageCodec; TensorProto: MessageCodec }> | undefined;

/** The two top-level messages' codecs, loaded on first use. */
function schema(): Promise<{ ModelProto: MessageCodec; TensorProto: MessageCodec }> {
  codecs ??= import('./proto/onnx-proto.js').then(({ onnx }) => onnx);
  return codecs;
}

/** TensorProto.DataType values this library reads or writes. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;

/** AttributeProto.AttributeType values. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

// Plain shapes of the decoded messages (protobufjs's toObject with longs as numbers).
export interface OnnxTensorProto {
  dims?: number[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  uint64_data?: number[];
  raw_data?: Uint8Array;
  name?: string;
  data_location?: number;
  external_data?: Array<{ key?: string; value?: string }>;
}
export interface OnnxAttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensorProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}
export interface OnnxNodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: OnnxAttributeProto[];
}
export interface OnnxValueInfoProto {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: Array<{ dim_value?: number; dim_param?: string }> } } };
}
export interface OnnxGraphProto {
  node?: OnnxNodeProto[];
  name?: string;
  initializer?: OnnxTensorProto[];
  input?: OnnxValueInfoProto[];
  output?: OnnxValueInfoProto[];
}
export interface OnnxModelProto {
  ir_version?: number;
  producer_name?: string;
  graph?: OnnxGraphProto;
  opset_import?: Array<{ domain?: string; version?: number }>;
  metadata_props?: Array<{ key?: string; value?: string }>;
}

const PLAIN = { longs: Number, arrays: true, defaults: false };

/** Decodes a model file's bytes into plain objects (int64 as numbers). Throws protobufjs's error on malformed input. */
export async function decodeModel(bytes: Uint8Array): Promise<OnnxModelProto> {
  const { ModelProto } = await schema();
  return ModelProto.toObject(ModelProto.decode(bytes), PLAIN) as OnnxModelProto;
}

/** Decodes a serialized TensorProto (the conformance tests' .pb files). */
export async function decodeTensor(bytes: Uint8Array): Promise<OnnxTensorProto> {
  const { TensorProto } = await schema();
  return TensorProto.toObject(TensorProto.decode(bytes), PLAIN) as OnnxTensorProto;
}

/** Encodes a model (plain objects as above) into a file's bytes. */
export async function encodeModel(model: OnnxModelProto): Promise<Uint8Array> {
  const { ModelProto } = await schema();
  const error = ModelProto.verify(model);
  if (error) throw new Error(`onnx: cannot encode the model: ${error}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}
