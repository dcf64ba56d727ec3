/**
 * Running one GPU op alone, for the op tests: upload host arrays as GPU tensors, record the op's
 * dispatches with a Recorder that owns their uniforms, replay them in one submission, read a buffer
 * back. Every buffer made here is released by `dispose`.
 */
import { afterAll, beforeAll } from 'vitest';
import { toFloat16Array } from '../../src/float16.js';
import type { GpuContext } from '../../src/gpu/context.js';
import { contextFor, requestDevice } from '../../src/gpu/device.js';
import { type GpuDtype, type GpuTensor, gpuTensor } from '../../src/gpu/gpu-tensor.js';
import { type Command, replay } from '../../src/gpu/program.js';
import { readBuffer } from '../../src/gpu/readback.js';
import { OwningRecorder } from '../../src/gpu/recorder.js';

export class OpHarness extends OwningRecorder {
  constructor(ctx: GpuContext) {
    super(ctx, 'op-test');
  }

  /** A tensor holding `values` (f32, or rounded to half for 'f16'), `offset` elements into its buffer. */
  tensor(values: ArrayLike<number>, shape: readonly number[], dtype: GpuDtype = 'f32', offset = 0): GpuTensor {
    const padded = new Float32Array(offset + values.length);
    padded.set(Float32Array.from(values), offset);
    const data = dtype === 'f16' ? toFloat16Array(padded) : padded;
    const buffer = this.storage('tensor', Math.ceil(data.byteLength / 4));
    this.ctx.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return gpuTensor(buffer, shape, dtype, offset);
  }

  /** A u32 tensor (lengths). */
  u32(values: ArrayLike<number>): GpuTensor {
    const data = Uint32Array.from(values);
    const buffer = this.storage('u32', data.length);
    this.ctx.device.queue.writeBuffer(buffer, 0, data);
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
    this.release();
  }
}

/** Seeded uniforms in [−1, 1). */
export function values(next: () => number, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => 2 * next() - 1);
}

/** The float64 reference of nn.Linear without bias: out[r, o] = Σ_i a[r, i] · w[o, i] (a is rows × cols, w outs × cols). */
export function linear(a: ArrayLike<number>, rows: number, cols: number, w: ArrayLike<number>, outs: number): Float64Array {
  const out = new Float64Array(rows * outs);
  for (let r = 0; r < rows; r++) for (let o = 0; o < outs; o++) for (let i = 0; i < cols; i++) out[r * outs + o] += a[r * cols + i] * w[o * cols + i];
  return out;
}

/**
 * How an op test reruns its cases on a second device's context: as a GPU records them on this adapter
 * (no wide software tiles), or without subgroups (the plain loads of devices that lack them).
 */
export type ContextVariant = 'gpu-layouts' | 'no-subgroups';

/**
 * A describe block's own context and harness for `variant`, on a fresh device made in beforeAll and
 * destroyed in afterAll (call it inside the describe); read `ctx` and `harness` in the tests.
 */
export function variantContext(variant: ContextVariant): { readonly ctx: GpuContext; readonly harness: OpHarness } {
  let ctx: GpuContext | undefined;
  let harness: OpHarness | undefined;
  beforeAll(async () => {
    ctx = await contextFor(await requestDevice());
    if (variant === 'gpu-layouts') ctx.isSoftwareAdapter = false;
    else ctx.subgroups = false;
    harness = new OpHarness(ctx);
  });
  afterAll(() => {
    harness?.dispose();
    ctx?.device.destroy();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error(`variantContext(${variant}): read before its beforeAll ran`);
    return value;
  };
  return {
    get ctx() {
      return ready(ctx);
    },
    get harness() {
      return ready(harness);
    },
  };
}
