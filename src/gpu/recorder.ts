/**
 * A Recorder (program.ts) that owns what it makes: every storage and uniform buffer an op's recording
 * asks for, released together — the one bookkeeping of the inference and training plans, sampling,
 * the benchmark's ceiling probe and the op tests' harness.
 */
import { STORAGE_USAGE, UNIFORM_USAGE } from './constants.js';
import type { GpuContext } from './context.js';
import type { Recorder } from './program.js';

export class OwningRecorder implements Recorder {
  private readonly owned: GPUBuffer[] = [];

  constructor(
    readonly ctx: GpuContext,
    /** Prefixes the buffers' labels. */
    readonly tag: string,
  ) {}

  storage(label: string, elements: number, usage: GPUBufferUsageFlags = STORAGE_USAGE): GPUBuffer {
    const buffer = this.ctx.buffer(`${this.tag}.${label}`, Math.max(1, elements) * 4, usage);
    this.owned.push(buffer);
    return buffer;
  }

  uniform(label: string, data: Uint32Array): GPUBufferBinding {
    const buffer = this.storage(label, data.length, UNIFORM_USAGE);
    this.ctx.device.queue.writeBuffer(buffer, 0, data);
    return { buffer, offset: 0, size: data.byteLength };
  }

  /** GPU bytes held (the pool's rounding included). */
  get heldBytes(): number {
    return this.owned.reduce((sum, b) => sum + b.size, 0);
  }

  /**
   * Gives the buffers back to the pool; with `discard`, destroys them instead (after a failed
   * submission, which may have left them invalid).
   */
  release(discard = false): void {
    for (const b of this.owned) discard ? this.ctx.discard(b) : this.ctx.release(b);
    this.owned.length = 0;
  }
}
