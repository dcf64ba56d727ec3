/**
 * Reading GPU buffers back to the host, the one way: copy into a MAP_READ staging buffer in the same
 * submission as the work, map it, copy the bytes out, unmap. Plans keep their staging buffers (a
 * steady-state call allocates nothing); one-off reads take one from the pool.
 */
import { BufferUsage, MapMode } from './constants.js';
import type { GpuContext } from './context.js';

export const STAGING = BufferUsage.MAP_READ | BufferUsage.COPY_DST;

/** Maps a staging buffer whose copy has been submitted; returns a host copy of its first `elements` f32. */
export async function mapRead(buffer: GPUBuffer, elements: number): Promise<Float32Array> {
  await buffer.mapAsync(MapMode.READ, 0, elements * 4);
  try {
    return new Float32Array(buffer.getMappedRange(0, elements * 4).slice(0));
  } finally {
    buffer.unmap();
  }
}

/**
 * Reads `elements` f32 of `source` through a pooled staging buffer. A failure destroys the staging
 * buffer rather than pooling it (a failed map may leave it unusable).
 */
export async function readBuffer(ctx: GpuContext, label: string, source: GPUBuffer, elements: number): Promise<Float32Array> {
  const staging = ctx.buffer(`${label}.staging`, elements * 4, STAGING);
  try {
    const encoder = ctx.device.createCommandEncoder({ label });
    encoder.copyBufferToBuffer(source, 0, staging, 0, elements * 4);
    ctx.device.queue.submit([encoder.finish()]);
    const data = await mapRead(staging, elements);
    ctx.release(staging);
    return data;
  } catch (e) {
    ctx.discard(staging);
    throw e;
  }
}
