/**
 * The types of the safetensors reader and writer: the public ones (SafetensorsDtype, SafetensorsFile,
 * WriteSafetensorsOptions, re-exported by src/safetensors.ts) and AnyData, the typed arrays a tensor's
 * elements are read into or written from, which the dtype readers and writers share.
 */
import type { IntTensor, Tensor, TensorData } from '../tensor.js';

/** The element types this reader understands. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8';

/** What a safetensors file holds, decoded. */
export interface SafetensorsFile {
  /** Tensors by name; see the file comment for which typed array each dtype becomes. */
  readonly tensors: Record<string, Tensor | IntTensor>;
  /** The dtype each tensor had in the file (F16 and BF16 are widened on reading; this remembers). */
  readonly dtypes: Record<string, SafetensorsDtype>;
  /** The `__metadata__` map; empty when the file has none. */
  readonly metadata: Record<string, string>;
}

/** Options of {@link writeSafetensors}. */
export interface WriteSafetensorsOptions {
  /** Element type for float tensors, whatever their array type: 'F32' (default, PyTorch's) or 'F64'. */
  readonly floatDtype?: 'F32' | 'F64';
  /** Written as the `__metadata__` map. */
  readonly metadata?: Record<string, string>;
}

/** The typed arrays tensor elements are decoded into or written from (internal; not re-exported). */
export type AnyData = TensorData | IntTensor['data'];
