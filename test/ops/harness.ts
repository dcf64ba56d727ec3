/**
 * Running one GPU op alone, for the op tests: upload host arrays as GPU tensors, record the op's
 * dispatches with a Recorder that owns their uniforms, replay them in one submission, read a buffer
 * back. Every buffer made here is released by `dispose`.
 */
import { toFloat16Array } from '../../src/float16.js';
import { BufferUsage } from '../../src/gpu/constants.js';
import type { GpuContext } from '../../src/gpu/context.js';
import { type GpuDtype, type GpuTensor, gpuTensor } from '../../src/gpu/gpu-tensor.js';
import { type Command, type Recorder, replay } from '../../src/gpu/program.js';
import { readBuffer } from '../../src/gpu/readback.js';

const STORAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

export class OpHarness implements Recorder {
  private readonly buffers: GPUBuffer[] = [];

  constructor(readonly ctx: GpuContext) {}

  uniform(label: string, data: Uint32Array): GPUBufferBinding {
    const buffer = this.ctx.buffer(label, data.byteLength, BufferUsage.UNIFORM | BufferUsage.COPY_DST);
    this.ctx.device.queue.writeBuffer(buffer, 0, data);
    this.buffers.push(buffer);
    return { buffer, offset: 0, size: data.byteLength };
  }

  storage(label: string, elements: number): GPUBuffer {
    const buffer = this.ctx.buffer(label, elements * 4, STORAGE);
    this.buffers.push(buffer);
    return buffer;
  }

  /** A tensor holding `values` (f32, or rounded to half for 'f16'), `offset` elements into its buffer. */
  tensor(values: ArrayLike<number>, shape: readonly number[], dtype: GpuDtype = 'f32', offset = 0): GpuTensor {
    const padded = new Float32Array(offset + values.length);
    padded.set(Float32Array.from(values), offset);
    const data = dtype === 'f16' ? toFloat16Array(padded) : padded;
    const buffer = this.ctx.buffer('op-test', data.byteLength, STORAGE);
    this.ctx.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    this.buffers.push(buffer);
    return gpuTensor(buffer, shape, dtype, offset);
  }

  /** A u32 tensor (lengths). */
  u32(values: ArrayLike<number>): GpuTensor {
    const data = Uint32Array.from(values);
    const buffer = this.ctx.buffer('op-test.u32', data.byteLength, STORAGE);
    this.ctx.device.queue.writeBuffer(buffer, 0, data);
    this.buffers.push(buffer);
    return gpuTensor(buffer, [data.length], 'u32');
  }

  /** Replays the commands in one submission, failing on any validation error. */
  async run(commands: readonly Command[]): Promise<void> {
    const device = this.ctx.device;
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder({ label: 'op-test' });
    replay(encoder, commands, 'op-test');
    device.queue.submit([encoder.finish()]);
    const error = await device.popErrorScope();
    if (error) throw new Error(`WebGPU validation error: ${error.message}`);
  }

  /** The f32 elements of a tensor's buffer from its offset. */
  async read(t: GpuTensor, elements: number): Promise<Float32Array> {
    return (await readBuffer(this.ctx, 'op-test.read', t.buffer, t.offset + elements)).subarray(t.offset);
  }

  dispose(): void {
    for (const b of this.buffers) this.ctx.release(b);
    this.buffers.length = 0;
  }
}

/** Seeded uniforms in [−1, 1). */
export function values(next: () => number, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => 2 * next() - 1);
}
