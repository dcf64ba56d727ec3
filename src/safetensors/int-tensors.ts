/**
 * Helpers for the integer tensors a file yields (Int32Array, or BigInt64Array for I64): isIntTensor tells
 * them from float tensors, and lengthsToInt32 turns sequence lengths of either kind into an Int32Array.
 */
import { RnnError, describeValue } from '../errors.js';
import type { IntTensor, Tensor } from '../tensor.js';

/**
 * Converts sequence lengths read from a file (I32, or I64 as PyTorch's int64 tensors are) to Int32Array.
 * Throws an RnnError (TENSOR_INVALID) naming the tensor, and the element when a value does not fit in int32.
 */
export function lengthsToInt32(t: IntTensor, name = 'lengths'): Int32Array {
  const data: unknown = t?.data;
  if (data instanceof Int32Array) return data.slice();
  if (!(data instanceof BigInt64Array)) {
    throw new RnnError('TENSOR_INVALID', `${name}.data: expected an Int32Array or BigInt64Array, got ${describeValue(data)}`);
  }
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < -0x8000_0000n || v > 0x7fff_ffffn) throw new RnnError('TENSOR_INVALID', `${name}[${i}] = ${v} does not fit in int32`);
    out[i] = Number(v);
  }
  return out;
}

/** True when the tensor holds integers (Int32Array or BigInt64Array data). */
export function isIntTensor(t: Tensor | IntTensor): t is IntTensor {
  return t.data instanceof Int32Array || t.data instanceof BigInt64Array;
}
