/**
 * WebGPU flag values from the specification. Using them instead of the GPUBufferUsage / GPUMapMode
 * globals keeps the engine working where those globals are absent (Node with Dawn, a caller's device).
 */
export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

/** The engine's working buffers: written by kernels and by the queue, copied out for read-back. */
export const STORAGE_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

/** Uniform buffers, written by the queue. */
export const UNIFORM_USAGE = BufferUsage.UNIFORM | BufferUsage.COPY_DST;

/** Bytes in an f32. */
export const F32_BYTES = 4;

export const MapMode = { READ: 0x0001 } as const;

export const ShaderStage = { COMPUTE: 0x4 } as const;

export const TextureUsage = { COPY_DST: 0x02, TEXTURE_BINDING: 0x04 } as const;
