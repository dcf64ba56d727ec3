/**
 * The WebGPU backend behind the public API: input checks and result shapes are shared with the CPU
 * backend; the work is GpuRnn's, whose queue orders every call (see gpu/gpu-rnn.ts). Streams keep
 * their state in a GPU buffer between pushes.
 */
import type { RnnConfig } from '../config.js';
import { RnnError, describeValue } from '../errors.js';
import { contextFor } from '../gpu/device.js';
import { GpuRnn } from '../gpu/gpu-rnn.js';
import type { Precision } from '../gpu/wgsl.js';
import type { StrategyChoice } from '../gpu/strategy.js';
import {
  type ForwardOptions,
  type ForwardResult,
  type PushOptions,
  formatOutput,
  formatState,
  prepareChunk,
  prepareInputs,
  prepareStreamOptions,
  prepareStreamState,
} from '../inputs.js';
import type { Weights } from '../params.js';
import type { Rnn, RnnStream, StreamOptions, StreamState } from '../api.js';
import type { Tensor } from '../tensor.js';

/** Test-only knobs (not part of the documented API). */
export interface DebugOptions {
  /** Fill every buffer a run writes with NaN before it runs. */
  poison?: boolean;
}

export interface WebGpuOptions {
  device?: GPUDevice;
  strategy?: StrategyChoice;
  precision?: Precision;
  checkFinite?: boolean;
}

const STRATEGIES: readonly StrategyChoice[] = ['auto', 'per-step', 'persistent', 'fused'];

export class WebGpuRnn implements Rnn {
  readonly backend = 'webgpu' as const;
  /** See DebugOptions. */
  debug: DebugOptions = {};

  private constructor(
    readonly config: RnnConfig,
    readonly gpu: GpuRnn,
    readonly strategy: StrategyChoice,
    readonly checkFinite: boolean,
  ) {}

  static async create(config: RnnConfig, weights: Weights, options: WebGpuOptions = {}): Promise<WebGpuRnn> {
    const { strategy = 'auto', precision = 'f32' } = options;
    if (!STRATEGIES.includes(strategy)) {
      throw new RnnError('OPTION_INVALID', `createRnn options.strategy: expected "auto", "per-step", "persistent" or "fused", got ${describeValue(strategy)}`);
    }
    if (precision !== 'f32' && precision !== 'f16') {
      throw new RnnError('OPTION_INVALID', `createRnn options.precision: expected "f32" or "f16", got ${describeValue(precision)}`);
    }
    const ctx = await contextFor(options.device);
    ctx.checkAlive();
    ctx.device.pushErrorScope('validation');
    let built: { gpu: GpuRnn } | { thrown: unknown };
    try {
      built = { gpu: new GpuRnn(ctx, config, weights, precision) };
    } catch (thrown) {
      built = { thrown };
    }
    // Popped whether or not the model was built (e.g. LIMIT_EXCEEDED), so no scope is left behind.
    const error = await ctx.device.popErrorScope().catch(() => null);
    if ('thrown' in built) throw built.thrown;
    const { gpu } = built;
    if (error) {
      void gpu.destroy();
      throw new RnnError('GPU_VALIDATION', `WebGPU validation error building the ${config.mode} model: ${error.message}`);
    }
    return new WebGpuRnn(config, gpu, strategy, options.checkFinite ?? false);
  }

  async forward(input: Tensor, options: ForwardOptions = {}): Promise<ForwardResult> {
    const prepared = prepareInputs(this.config, input, options, this.checkFinite);
    const r = await this.gpu.run(prepared, { readOutput: true, readState: true, poison: this.debug.poison, strategy: this.strategy });
    return { output: formatOutput(this.config, prepared, r.output!), ...formatState(this.config, prepared, r.hN!, r.cN) };
  }

  stream(options: StreamOptions = {}): RnnStream {
    const { batch, h0, c0 } = prepareStreamOptions(this.config, options, this.checkFinite);
    return new WebGpuStream(this, batch, h0, c0);
  }

  /** Refuses new calls at once; frees the GPU memory when the calls already issued are done. */
  destroy(): Promise<void> {
    return this.gpu.destroy();
  }
}

class WebGpuStream implements RnnStream {
  private readonly stateBuffer: GPUBuffer;
  private closed = false;

  constructor(
    private readonly model: WebGpuRnn,
    readonly batch: number,
    h0: Tensor['data'] | undefined,
    c0: Tensor['data'] | undefined,
  ) {
    this.stateBuffer = model.gpu.createStateBuffer(batch);
    // Queued like every call; a rejection (a model destroyed meanwhile) shows at the next push.
    this.model.gpu.writeState(this.stateBuffer, batch, h0, c0).catch(() => undefined);
  }

  private checkOpen(what: string): void {
    if (this.closed) throw new RnnError('DESTROYED', `stream ${what}: the stream was closed`);
    if (this.model.gpu.destroyed) throw new RnnError('DESTROYED', `stream ${what}: the model was destroyed`);
  }

  reset(state: StreamState = {}): void {
    this.checkOpen('reset');
    const { h0, c0 } = prepareStreamState(this.model.config, this.batch, state, this.model.checkFinite);
    // Checked now, applied in order: after the pushes already issued, before the ones after.
    this.model.gpu.writeState(this.stateBuffer, this.batch, h0, c0).catch(() => undefined);
  }

  async push(chunk: Tensor, options: PushOptions = {}): Promise<Tensor | undefined> {
    this.checkOpen('push');
    const prepared = prepareChunk(this.model.config, this.batch, chunk, options, this.model.checkFinite);
    const r = await this.model.gpu.run(prepared, {
      stateBuffer: this.stateBuffer,
      readOutput: prepared.read,
      readState: false,
      poison: this.model.debug.poison,
      strategy: this.model.strategy,
    });
    return prepared.read ? formatOutput(this.model.config, prepared, r.output!) : undefined;
  }

  async state() {
    this.checkOpen('state');
    const { hN, cN } = await this.model.gpu.readStateBuffer(this.stateBuffer, this.batch);
    return formatState(this.model.config, { B: this.batch, unbatched: false }, hN, cN);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.model.gpu.closeStateBuffer(this.stateBuffer);
  }
}
