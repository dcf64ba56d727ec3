/**
 * Decoding a tensor's bytes: one reader per dtype the format allows, each with a DataView path (any
 * alignment, any host) and, except F16 / BF16, a fast path of one native typed-array copy for aligned
 * elements on a little-endian host; decode picks between them. Whatever the path, the result owns its
 * memory. READERS also tells the header parser which dtypes exist and their element sizes.
 */
import { float16ToNumber } from '../float16.js';
import type { AnyData, SafetensorsDtype } from './types.js';

/** Detected once: safetensors is little-endian, so only such a host may copy elements without a DataView. */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface DtypeReader {
  /** Bytes per element. */
  readonly size: number;
  /** Decodes `count` elements from byte 0 of `view`, one DataView call each: any alignment, any host. */
  readonly read: (view: DataView, count: number) => AnyData;
  /**
   * The fast path, on a little-endian host for elements starting at a multiple of `size` in `buffer`: one
   * native copy, widening where the output type is wider (`new Int32Array(int8View)`). Never a view of the
   * input. Absent where elements need decoding (F16, BF16).
   */
  readonly copy?: (buffer: ArrayBufferLike, byteOffset: number, count: number) => AnyData;
}

export const READERS: { readonly [D in SafetensorsDtype]: DtypeReader } = {
  F64: {
    size: 8,
    read: (v, n) => fill(new Float64Array(n), (i) => v.getFloat64(8 * i, true)),
    copy: (b, at, n) => new Float64Array(new Float64Array(b, at, n)),
  },
  F32: {
    size: 4,
    read: (v, n) => fill(new Float32Array(n), (i) => v.getFloat32(4 * i, true)),
    copy: (b, at, n) => new Float32Array(new Float32Array(b, at, n)),
  },
  F16: { size: 2, read: (v, n) => fill(new Float32Array(n), (i) => float16ToNumber(v.getUint16(2 * i, true))) },
  BF16: { size: 2, read: (v, n) => fill(new Float32Array(n), (i) => bfloat16ToNumber(v.getUint16(2 * i, true))) },
  I64: {
    size: 8,
    read: readInt64,
    copy: (b, at, n) => new BigInt64Array(new BigInt64Array(b, at, n)),
  },
  I32: {
    size: 4,
    read: (v, n) => fill(new Int32Array(n), (i) => v.getInt32(4 * i, true)),
    copy: (b, at, n) => new Int32Array(new Int32Array(b, at, n)),
  },
  I16: {
    size: 2,
    read: (v, n) => fill(new Int32Array(n), (i) => v.getInt16(2 * i, true)),
    copy: (b, at, n) => new Int32Array(new Int16Array(b, at, n)),
  },
  I8: {
    size: 1,
    read: (v, n) => fill(new Int32Array(n), (i) => v.getInt8(i)),
    copy: (b, at, n) => new Int32Array(new Int8Array(b, at, n)),
  },
  U8: {
    size: 1,
    read: (v, n) => fill(new Int32Array(n), (i) => v.getUint8(i)),
    copy: (b, at, n) => new Int32Array(new Uint8Array(b, at, n)),
  },
};

function fill<A extends Float32Array | Float64Array | Int32Array>(out: A, element: (i: number) => number): A {
  for (let i = 0; i < out.length; i++) out[i] = element(i);
  return out;
}

function readInt64(view: DataView, count: number): BigInt64Array {
  const out = new BigInt64Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getBigInt64(8 * i, true);
  return out;
}

const bfloat16Scratch = new DataView(new ArrayBuffer(4));

/** bfloat16 bits → its value: bfloat16 is the top half of a float32, so widening appends 16 zero bits. */
function bfloat16ToNumber(bits: number): number {
  bfloat16Scratch.setUint32(0, bits * 0x10000);
  return bfloat16Scratch.getFloat32(0);
}

/** Decodes `bytes` bytes of `dtype` elements at `byteOffset` of `buffer` into a new array. */
export function decode(dtype: SafetensorsDtype, buffer: ArrayBufferLike, byteOffset: number, bytes: number): AnyData {
  const { size, read, copy } = READERS[dtype];
  const count = bytes / size;
  if (copy !== undefined && HOST_IS_LITTLE_ENDIAN && byteOffset % size === 0) return copy(buffer, byteOffset, count);
  return read(new DataView(buffer, byteOffset, bytes), count);
}
