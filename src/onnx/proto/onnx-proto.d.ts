// Types for the generated onnx-proto.js: the two top-level messages the loader and the exports use,
// each with protobufjs's static codec (decode, encode, verify, toObject, fromObject).
import type { IConversionOptions, Writer } from 'protobufjs';

export interface MessageCodec {
  decode(bytes: Uint8Array): object;
  encode(message: object): Writer;
  verify(plain: object): string | null;
  toObject(message: object, options?: IConversionOptions): object;
  fromObject(plain: object): object;
}

export declare const onnx: { readonly ModelProto: MessageCodec; readonly TensorProto: MessageCodec };
