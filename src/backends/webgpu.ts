/**
 * The WebGPU backend behind the public API: input checks and result shapes are shared with the CPU
 * backend; the work is GpuRnn's. Streams keep their state in a GPU buffer between pushes.
 */
import type { RnnConfig } from '../config.js';
import { contextFor } from '../gpu/device.js';
import { GpuRnn } from '../gpu/gpu-rnn.js';
import type { Precision } from '../gpu/kernels.js';
import type { StrategyChoice } from '../gpu/strategy.js';
import {
  type ForwardOptions, type ForwardResult, formatOutput, formatState, prepareChunk, prepareInputs, prepareStreamState,
} from '../inputs.js';
import type { Weights } from '../params.js';
import type { Rnn, RnnStream, StreamOptions, StreamState } from '../rnn.js';
import type { Tensor } from '../tensor.js';

/** Test-only knobs (not part of the documented API). */
export interface DebugOptions {
  /** Fill every buffer a run writes with NaN before it runs. */
  poison?: boolean;
}

export class WebGpuRnn implements Rnn {
  readonly backend = 'webgpu' as const;
  /** See DebugOptions. */
  debug: DebugOptions = {};

  private constructor(readonly config: RnnConfig, readonly gpu: GpuRnn, readonly strategy: StrategyChoice) {}

  static async create(
    config: RnnConfig, weights: Weights, device?: GPUDevice, strategy: StrategyChoice = 'auto', precision: Precision = 'f32',
  ): Promise<WebGpuRnn> {
    if (!['auto', 'per-step', 'persistent', 'fused'].includes(strategy)) {
      throw new RangeError(`strategy: expected "auto", "per-step", "persistent" or "fused", got ${JSON.stringify(strategy)}`);
    }
    if (precision !== 'f32' && precision !== 'f16') throw new RangeError(`precision: expected "f32" or "f16", got ${JSON.stringify(precision)}`);
    const ctx = await contextFor(device);
    ctx.checkAlive();
    ctx.device.pushErrorScope('validation');
    const gpu = new GpuRnn(ctx, config, weights, precision);
    const error = await ctx.device.popErrorScope();
    if (error) {
      gpu.destroy();
      throw new Error(`WebGPU validation error building the ${config.mode} model: ${error.message}`);
    }
    return new WebGpuRnn(config, gpu, strategy);
  }

  async forward(input: Tensor, options: ForwardOptions = {}): Promise<ForwardResult> {
    const prepared = prepareInputs(this.config, input, options);
    const r = await this.gpu.run(prepared, { readOutput: true, readState: true, poison: this.debug.poison, strategy: this.strategy });
    return { output: formatOutput(this.config, prepared, r.output!), ...formatState(this.config, prepared, r.hN!, r.cN) };
  }

  stream(options: StreamOptions = {}): RnnStream {
    return new WebGpuStream(this, options.batch ?? 1, options);
  }

  destroy(): void {
    this.gpu.destroy();
  }
}

class WebGpuStream implements RnnStream {
  private stateBuffer: GPUBuffer | undefined;

  constructor(private readonly model: WebGpuRnn, readonly batch: number, state: StreamState) {
    this.stateBuffer = model.gpu.createStateBuffer(batch);
    this.reset(state);
  }

  private buffer(): GPUBuffer {
    if (!this.stateBuffer) throw new Error('stream: used after close()');
    return this.stateBuffer;
  }

  reset(state: StreamState = {}): void {
    const { h0, c0 } = prepareStreamState(this.model.config, this.batch, state);
    this.model.gpu.writeState(this.buffer(), this.batch, h0, c0);
  }

  async push(chunk: Tensor, options: { lengths?: ForwardOptions['lengths']; read?: boolean } = {}): Promise<Tensor | undefined> {
    const prepared = prepareChunk(this.model.config, this.batch, chunk, options.lengths);
    const read = options.read !== false;
    const r = await this.model.gpu.run(prepared, {
      stateBuffer: this.buffer(), readOutput: read, readState: false, poison: this.model.debug.poison, strategy: this.model.strategy,
    });
    return read ? formatOutput(this.model.config, prepared, r.output!) : undefined;
  }

  async state() {
    const { hN, cN } = await this.model.gpu.readStateBuffer(this.buffer(), this.batch);
    return formatState(this.model.config, { B: this.batch, unbatched: false }, hN, cN);
  }

  close(): void {
    if (this.stateBuffer) this.model.gpu.ctx.release(this.stateBuffer);
    this.stateBuffer = undefined;
  }
}
