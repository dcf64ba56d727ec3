/**
 * The WebGPU backend of one model: weights uploaded once, kernels specialised for its mode, and a
 * small cache of sequence plans keyed by shape. Calls run one at a time (a promise chain), so a
 * plan's buffers are never shared by two calls in flight.
 */
import type { RnnConfig } from '../config.js';
import type { PreparedInputs } from '../inputs.js';
import type { Weights } from '../params.js';
import { BufferUsage } from './constants.js';
import type { GpuContext } from './context.js';
import { type Precision, type WeightFormat, matmulKernel, weightFormat } from './kernels.js';
import { type LayerWeights, releaseLayerWeights, uploadLayerWeights } from './layer-weights.js';
import { type ModelParts, PlanSizes, SequencePlan, splitState } from './sequence-plan.js';
import { type Strategy, type StrategyChoice, chooseStrategy } from './strategy.js';

/** Plans kept per model; the least recently used is released past this. Plan key: `${T}x${B}:${strategy}`. */
const MAX_PLANS = 4;

export interface GpuRunResult {
  /** (T, B, D·H_out), or undefined when not read back */
  output?: Float32Array;
  /** (L·D, B, H_out) */
  hN?: Float32Array;
  /** (L·D, B, H), LSTM only */
  cN?: Float32Array;
}

/** Where a run takes its initial state from and whether it reads results back. */
export interface GpuRunOptions {
  /** A stream's state buffer (all layers); when absent, h0 / c0 of the inputs (zeros if none). */
  stateBuffer?: GPUBuffer;
  readOutput: boolean;
  readState: boolean;
  /** Fill intermediate and output buffers with NaN first (tests: unwritten elements show). */
  poison?: boolean;
  /** Recurrent strategy; 'auto' (default) picks by shape and device (see strategy.ts). */
  strategy?: StrategyChoice;
}

export class GpuRnn {
  private readonly parts: ModelParts;
  private readonly plans = new Map<string, SequencePlan>();
  private queue: Promise<unknown> = Promise.resolve();
  private destroyed = false;
  /** How the kernels read this model's weights (f16 weights: native f16, or packed words). */
  readonly weightFormat: WeightFormat;

  constructor(readonly ctx: GpuContext, readonly config: RnnConfig, weights: Weights, precision: Precision = 'f32') {
    const layers: LayerWeights[] = [];
    for (let l = 0; l < config.num_layers; l++) layers.push(uploadLayerWeights(ctx, config, weights, l, precision));
    const format = (this.weightFormat = weightFormat(precision, ctx.device));
    this.parts = {
      config,
      weightFormat: format,
      layers,
      matmul: layers.map((w) => matmulKernel(ctx, w.inputSize % 4 === 0, format)),
    };
  }

  /** The strategy a call of batch B runs with `choice`. */
  strategyFor(B: number, choice: StrategyChoice = 'auto'): Strategy {
    return chooseStrategy(choice, this.config, B, this.ctx.limits, this.ctx.isSoftwareAdapter);
  }

  /**
   * Dispatches one forward of T steps records, per layer: 1 fused; 1 matmul + 1 loop persistent;
   * 1 matmul + T steps per-step (+T projections with proj_size).
   */
  dispatchCount(T: number, strategy: Strategy): number {
    if (strategy === 'fused') return this.config.num_layers;
    if (strategy === 'persistent') return 2 * this.config.num_layers;
    const perStep = this.config.proj_size > 0 ? 2 : 1;
    return this.config.num_layers * (1 + perStep * T);
  }

  /** Runs the network on prepared (time-major) inputs. */
  run(inputs: PreparedInputs, options: GpuRunOptions): Promise<GpuRunResult> {
    const result = this.queue.then(() => this.runNow(inputs, options));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async runNow(inputs: PreparedInputs, options: GpuRunOptions): Promise<GpuRunResult> {
    if (this.destroyed) throw new Error('GpuRnn: used after destroy()');
    this.ctx.checkAlive();
    const plan = this.plan(inputs.T, inputs.B, this.strategyFor(inputs.B, options.strategy));
    const device = this.ctx.device;
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    if (options.poison) plan.poison();
    plan.writeInputs(inputs.x, inputs.lengths);
    const encoder = device.createCommandEncoder({ label: 'RnnForward' });
    if (options.stateBuffer) plan.copyStateIn(encoder, options.stateBuffer);
    else plan.writeInitialState(encoder, inputs.h0, inputs.c0);
    plan.encode(encoder);
    if (options.stateBuffer) plan.copyStateOut(encoder, options.stateBuffer);
    if (options.readOutput || options.readState) plan.encodeReadback(encoder, options.readState);
    device.queue.submit([encoder.finish()]);
    const oom = await device.popErrorScope();
    const invalid = await device.popErrorScope();
    if (oom) throw new Error(`WebGPU out of memory running T=${inputs.T}, B=${inputs.B}: ${oom.message}`);
    if (invalid) throw new Error(`WebGPU validation error running T=${inputs.T}, B=${inputs.B}: ${invalid.message}`);
    const result: GpuRunResult = {};
    if (options.readOutput) result.output = await plan.readOutput();
    if (options.readState) Object.assign(result, await plan.readState());
    return result;
  }

  private plan(T: number, B: number, strategy: Strategy): SequencePlan {
    const key = `${T}x${B}:${strategy}`;
    let plan = this.plans.get(key);
    if (plan) {
      this.plans.delete(key); // re-insert: Map order is our LRU order
    } else {
      plan = new SequencePlan(this.ctx, this.parts, T, B, strategy);
      if (this.plans.size >= MAX_PLANS) {
        const [oldestKey, oldest] = this.plans.entries().next().value!;
        this.plans.delete(oldestKey);
        oldest.release();
      }
    }
    this.plans.set(key, plan);
    return plan;
  }

  /** A GPU buffer holding every layer's state for batch B (a stream's state), set from h0/c0 or zeros. */
  createStateBuffer(B: number): GPUBuffer {
    const bytes = new PlanSizes(this.config, 1, B).stateBytes;
    return this.ctx.buffer(`RnnStream(B=${B}).state`, bytes, BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST);
  }

  /** Writes h0 (L·D, B, H_out) / c0 (L·D, B, H) into a stream state buffer; zeros where absent. */
  writeState(buffer: GPUBuffer, B: number, h0?: ArrayLike<number>, c0?: ArrayLike<number>): void {
    const s = new PlanSizes(this.config, 1, B);
    const hPer = s.hBytes / 4;
    const cPer = s.cBytes / 4;
    const state = new Float32Array(this.config.num_layers * s.layerState);
    for (let l = 0; l < this.config.num_layers; l++) {
      for (let k = 0; k < hPer; k++) state[l * s.layerState + k] = h0 ? h0[l * hPer + k] : 0;
      for (let k = 0; k < cPer; k++) state[l * s.layerState + hPer + k] = c0 ? c0[l * cPer + k] : 0;
    }
    this.ctx.device.queue.writeBuffer(buffer, 0, state);
  }

  /** Reads a stream state buffer back as h_n / c_n. */
  readStateBuffer(buffer: GPUBuffer, B: number): Promise<{ hN: Float32Array; cN?: Float32Array }> {
    const read = this.queue.then(async () => {
      this.ctx.checkAlive();
      const s = new PlanSizes(this.config, 1, B);
      const staging = this.ctx.buffer('RnnStream.stateStaging', s.stateBytes, BufferUsage.MAP_READ | BufferUsage.COPY_DST);
      try {
        const encoder = this.ctx.device.createCommandEncoder({ label: 'RnnStream.readState' });
        encoder.copyBufferToBuffer(buffer, 0, staging, 0, s.stateBytes);
        this.ctx.device.queue.submit([encoder.finish()]);
        await staging.mapAsync(1 /* GPUMapMode.READ */, 0, s.stateBytes);
        const data = new Float32Array(staging.getMappedRange(0, s.stateBytes).slice(0));
        staging.unmap();
        return splitState(s, data);
      } finally {
        this.ctx.release(staging);
      }
    });
    this.queue = read.catch(() => undefined);
    return read;
  }

  /** GPU bytes this model holds: packed weights plus its cached plans' buffers (pooled sizes). */
  heldBytes(): number {
    let bytes = 0;
    for (const layer of this.parts.layers) bytes += layer.params.size + (layer.wHr?.size ?? 0);
    for (const plan of this.plans.values()) bytes += plan.bytes;
    return bytes;
  }

  /** Number of cached plans (tests check reuse and eviction). */
  get planCount(): number {
    return this.plans.size;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const plan of this.plans.values()) plan.release();
    this.plans.clear();
    for (const layer of this.parts.layers) releaseLayerWeights(this.ctx, layer);
  }
}
