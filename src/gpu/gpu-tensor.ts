/**
 * A tensor that lives on the GPU: a buffer and where in it the tensor starts, its shape and element
 * type. Ops take and return these, so modules chain on the GPU (an embedding feeding the recurrent
 * layers feeding a linear head) without a read-back. Row-major, like host tensors.
 */
export type GpuDtype = 'f32' | 'u32' | 'i32' | 'f16';

const ELEMENT_BYTES: Readonly<Record<GpuDtype, number>> = { f32: 4, u32: 4, i32: 4, f16: 2 };

export interface GpuTensor {
  readonly buffer: GPUBuffer;
  /** First element's index in the buffer, in elements of `dtype`. */
  readonly offset: number;
  readonly shape: readonly number[];
  readonly dtype: GpuDtype;
}

export function gpuTensor(buffer: GPUBuffer, shape: readonly number[], dtype: GpuDtype = 'f32', offset = 0): GpuTensor {
  return { buffer, offset, shape, dtype };
}

export function elementCount(t: Pick<GpuTensor, 'shape'>): number {
  return t.shape.reduce((n, d) => n * d, 1);
}

/**
 * The binding that holds the tensor: the buffer from its start to the tensor's end (rounded up to
 * whole vec4s when `vec4`, for kernels that read four elements at a time; pooled buffers always hold
 * that slack, which is never read). Kernels take the tensor's `offset` through their uniforms: storage
 * binding offsets must be multiples of 256 bytes, element offsets need not be.
 */
export function tensorBinding(t: GpuTensor, vec4 = false): GPUBufferBinding {
  const size = (t.offset + Math.max(1, elementCount(t))) * ELEMENT_BYTES[t.dtype];
  return { buffer: t.buffer, offset: 0, size: vec4 ? Math.ceil(size / 16) * 16 : size };
}
