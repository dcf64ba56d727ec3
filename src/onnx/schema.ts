/**
 * ONNX's schema (onnx/onnx.proto, proto2, IR version 10) for protobufjs: the messages a model file of
 * recurrent networks uses — ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
 * ValueInfoProto and the type messages — with onnx.proto's field numbers, types and `packed` options.
 * Left out: training info, functions, sparse tensors, sequence/map/optional types, segments; a file
 * that has them still decodes (protobufjs skips unknown fields), and the loader says what it cannot
 * run. Decoding and encoding are protobufjs's (a well-kept library), not ours.
 *
 * protobufjs is bundled into the package (its licence: THIRD-PARTY-NOTICES.md) and imported on first
 * use, so it is a separate chunk that an app which never touches ONNX does not load.
 */
import type { Type } from 'protobufjs';

const field = (type: string, id: number, rule?: 'repeated', packed?: boolean) => ({ type, id, ...(rule ? { rule } : {}), ...(packed ? { options: { packed: true } } : {}) });
const repeated = (type: string, id: number, packed = false) => field(type, id, 'repeated', packed);

const descriptor = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: field('string', 1), value: field('string', 2) } },
        OperatorSetIdProto: { fields: { domain: field('string', 1), version: field('int64', 2) } },
        TensorShapeProto: {
          fields: { dim: repeated('Dimension', 1) },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
              fields: { dim_value: field('int64', 1), dim_param: field('string', 2), denotation: field('string', 3) },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensor_type'] } },
          fields: { tensor_type: field('Tensor', 1), denotation: field('string', 6) },
          nested: { Tensor: { fields: { elem_type: field('int32', 1), shape: field('TensorShapeProto', 2) } } },
        },
        ValueInfoProto: { fields: { name: field('string', 1), type: field('TypeProto', 2), doc_string: field('string', 3) } },
        TensorProto: {
          fields: {
            dims: repeated('int64', 1),
            data_type: field('int32', 2),
            float_data: repeated('float', 4, true),
            int32_data: repeated('int32', 5, true),
            string_data: repeated('bytes', 6),
            int64_data: repeated('int64', 7, true),
            name: field('string', 8),
            raw_data: field('bytes', 9),
            double_data: repeated('double', 10, true),
            uint64_data: repeated('uint64', 11, true),
            doc_string: field('string', 12),
            external_data: repeated('StringStringEntryProto', 13),
            data_location: field('int32', 14),
          },
        },
        AttributeProto: {
          fields: {
            name: field('string', 1),
            f: field('float', 2),
            i: field('int64', 3),
            s: field('bytes', 4),
            t: field('TensorProto', 5),
            g: field('GraphProto', 6),
            floats: repeated('float', 7),
            ints: repeated('int64', 8),
            strings: repeated('bytes', 9),
            tensors: repeated('TensorProto', 10),
            graphs: repeated('GraphProto', 11),
            doc_string: field('string', 13),
            type: field('int32', 20),
            ref_attr_name: field('string', 21),
          },
        },
        NodeProto: {
          fields: {
            input: repeated('string', 1),
            output: repeated('string', 2),
            name: field('string', 3),
            op_type: field('string', 4),
            attribute: repeated('AttributeProto', 5),
            doc_string: field('string', 6),
            domain: field('string', 7),
          },
        },
        GraphProto: {
          fields: {
            node: repeated('NodeProto', 1),
            name: field('string', 2),
            initializer: repeated('TensorProto', 5),
            doc_string: field('string', 10),
            input: repeated('ValueInfoProto', 11),
            output: repeated('ValueInfoProto', 12),
            value_info: repeated('ValueInfoProto', 13),
          },
        },
        ModelProto: {
          fields: {
            ir_version: field('int64', 1),
            producer_name: field('string', 2),
            producer_version: field('string', 3),
            domain: field('string', 4),
            model_version: field('int64', 5),
            doc_string: field('string', 6),
            graph: field('GraphProto', 7),
            opset_import: repeated('OperatorSetIdProto', 8),
            metadata_props: repeated('StringStringEntryProto', 14),
          },
        },
      },
    },
  },
};

let messages: Promise<{ ModelProto: Type; TensorProto: Type }> | undefined;

/** The two top-level message types, built from the descriptor on first use. */
function schema(): Promise<{ ModelProto: Type; TensorProto: Type }> {
  messages ??= import('protobufjs/light.js').then(({ default: protobuf }) => {
    const root = protobuf.Root.fromJSON(descriptor);
    return { ModelProto: root.lookupType('onnx.ModelProto'), TensorProto: root.lookupType('onnx.TensorProto') };
  });
  return messages;
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
