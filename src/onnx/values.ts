/**
 * Values flowing through an ONNX graph here: a shape and float64 data, tagged float or integer (int64
 * shapes and indices are exact in float64 up to 2^53, far past any tensor this library runs). Read
 * from TensorProto (raw_data little-endian, or the typed repeated fields) and written back as float32
 * or int64.
 */
import { RnnError } from '../errors.js';
import { float16ToNumber } from '../float16.js';
import { DataType, type OnnxTensorProto } from './schema.js';

export interface OnnxValue {
  readonly dims: readonly number[];
  readonly data: Float64Array;
  /** 'int' for integer and boolean tensors (shapes, indices, sequence_lens), 'float' otherwise. */
  readonly kind: 'float' | 'int';
}

export const count = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** bfloat16 bits → its value: the top half of a float32. */
function fromBfloat16(bits: number): number {
  return new Float32Array(Uint32Array.of(bits << 16).buffer)[0];
}

const FLOAT_TYPES = new Set<number>([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16, DataType.BFLOAT16]);
const TYPE_NAMES: Record<number, string> = {
  1: 'FLOAT',
  2: 'UINT8',
  3: 'INT8',
  4: 'UINT16',
  5: 'INT16',
  6: 'INT32',
  7: 'INT64',
  8: 'STRING',
  9: 'BOOL',
  10: 'FLOAT16',
  11: 'DOUBLE',
  12: 'UINT32',
  13: 'UINT64',
  16: 'BFLOAT16',
};

export function typeName(t: number | undefined): string {
  return TYPE_NAMES[t ?? 0] ?? `type ${t}`;
}

/** A TensorProto as a value; `what` names it in errors. */
export function valueFromProto(p: OnnxTensorProto, what: string): OnnxValue {
  const dims = (p.dims ?? []).map(Number);
  const n = count(dims);
  const type = p.data_type ?? 0;
  if (p.data_location === 1 || p.external_data?.length)
    throw new RnnError('ONNX_INVALID', `${what}: its data is in an external file, which this loader does not read (save the model with its data inside)`);
  const raw = p.raw_data?.length ? new DataView(p.raw_data.buffer, p.raw_data.byteOffset, p.raw_data.byteLength) : undefined;
  const out = new Float64Array(n);
  const read = (size: number, get: (offset: number) => number) => {
    if (raw!.byteLength !== n * size)
      throw new RnnError('ONNX_INVALID', `${what}: raw_data holds ${raw!.byteLength} bytes, ${typeName(type)} [${dims.join(', ')}] needs ${n * size}`);
    for (let i = 0; i < n; i++) out[i] = get(i * size);
  };
  const fromList = (list: number[] | undefined, field: string) => {
    const l = list ?? [];
    if (l.length !== n) throw new RnnError('ONNX_INVALID', `${what}: ${field} holds ${l.length} values, [${dims.join(', ')}] needs ${n}`);
    for (let i = 0; i < n; i++) out[i] = Number(l[i]);
  };
  switch (type) {
    case DataType.FLOAT:
      raw ? read(4, (o) => raw.getFloat32(o, true)) : fromList(p.float_data, 'float_data');
      break;
    case DataType.DOUBLE:
      raw ? read(8, (o) => raw.getFloat64(o, true)) : fromList(p.double_data, 'double_data');
      break;
    case DataType.FLOAT16:
      raw ? read(2, (o) => float16ToNumber(raw.getUint16(o, true))) : fromList(p.int32_data?.map(float16ToNumber), 'int32_data');
      break;
    case DataType.BFLOAT16:
      raw ? read(2, (o) => fromBfloat16(raw.getUint16(o, true))) : fromList(p.int32_data?.map(fromBfloat16), 'int32_data');
      break;
    case DataType.INT64:
      raw ? read(8, (o) => Number(raw.getBigInt64(o, true))) : fromList(p.int64_data, 'int64_data');
      break;
    case DataType.INT32:
      raw ? read(4, (o) => raw.getInt32(o, true)) : fromList(p.int32_data, 'int32_data');
      break;
    case DataType.INT8:
      raw ? read(1, (o) => raw.getInt8(o)) : fromList(p.int32_data, 'int32_data');
      break;
    case DataType.UINT8:
    case DataType.BOOL:
      raw ? read(1, (o) => raw.getUint8(o)) : fromList(p.int32_data, 'int32_data');
      break;
    default:
      throw new RnnError(
        'ONNX_INVALID',
        `${what}: tensors of ${typeName(type)} are not supported (float, double, float16, bfloat16, int8/32/64, uint8, bool are)`,
      );
  }
  return { dims, data: out, kind: FLOAT_TYPES.has(type) ? 'float' : 'int' };
}

/** A value as a TensorProto: float32 raw data, or int64 for integer values. */
export function protoFromValue(name: string, v: OnnxValue): OnnxTensorProto {
  const n = count(v.dims);
  if (v.kind === 'int') {
    const bytes = new Uint8Array(8 * n);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < n; i++) view.setBigInt64(8 * i, BigInt(Math.round(v.data[i])), true);
    return { name, dims: [...v.dims], data_type: DataType.INT64, raw_data: bytes };
  }
  const f = Float32Array.from(v.data);
  return { name, dims: [...v.dims], data_type: DataType.FLOAT, raw_data: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) };
}

export function floatValue(dims: readonly number[], data: ArrayLike<number>): OnnxValue {
  return { dims: [...dims], data: Float64Array.from(data), kind: 'float' };
}

export function intValue(dims: readonly number[], data: ArrayLike<number>): OnnxValue {
  return { dims: [...dims], data: Float64Array.from(data), kind: 'int' };
}
