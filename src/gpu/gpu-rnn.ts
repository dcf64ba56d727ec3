/**
 * The WebGPU backend of one model: weights uploaded once, kernels specialised for its mode, and a
 * small cache of sequence plans keyed by shape. Every call — forwards, stream pushes, state writes
 * and reads, closing a stream, destroy — runs one at a time, in the order made (a promise chain), so
 * a plan's or a stream's buffers are never shared by two calls in flight and each call sees exactly
 * the state the calls before it left. Buffers go back to the device's pool only from inside the
 * chain, after the work that used them. A call that does not fit the device is split (chunking.ts).
 */
import type { RnnConfig } from '../config.js';
import type { PreparedInputs } from '../inputs.js';
import type { Weights } from '../params.js';
import { RnnError } from '../errors.js';
import { type GpuRunOptions, type GpuRunResult, type PieceHost, runInPieces } from './chunking.js';
import { STORAGE_USAGE } from './constants.js';
import type { GpuContext } from './context.js';
import { type LayerWeights, layerWeightBytes, releaseLayerWeights, uploadLayerWeights } from './layer-weights.js';
import { layerWeightsUnfit } from './limits.js';
import { type Command, replay } from './program.js';
import { readBuffer } from './readback.js';
import { planUnfit } from './limits.js';
import { type ModelParts, SequencePlan } from './sequence-plan.js';
import { PlanSizes, packState, splitState } from './state.js';
import { type Precision, type WeightFormat, weightFormat } from './wgsl.js';
import { type Strategy, type StrategyChoice, chooseStrategy } from './strategy.js';

/** Plans kept per model; the least recently used is released past this. Plan key: `${T}x${B}:${strategy}`. */
const MAX_PLANS = 4;

export type { GpuRunOptions, GpuRunResult } from './chunking.js';

export class GpuRnn {
  private readonly parts: ModelParts;
  private readonly plans = new Map<string, SequencePlan>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Set by destroy(): new calls are refused at once; the release itself waits its turn in the queue. */
  private closing = false;
  /** Stream state buffers not yet released (destroy releases what streams left open). */
  private readonly streamStates = new Set<GPUBuffer>();
  /** How the kernels read this model's weights (f16 weights: native f16, or packed words). */
  readonly weightFormat: WeightFormat;

  constructor(
    readonly ctx: GpuContext,
    readonly config: RnnConfig,
    weights: Weights,
    precision: Precision = 'f32',
  ) {
    for (let l = 0; l < config.num_layers; l++) {
      const unfit = layerWeightsUnfit(config, l, precision, ctx.limits);
      if (unfit) throw new RnnError('LIMIT_EXCEEDED', `the ${config.mode} model does not fit this device: ${unfit}`);
    }
    const layers: LayerWeights[] = [];
    for (let l = 0; l < config.num_layers; l++) layers.push(uploadLayerWeights(ctx, config, weights, l, precision));
    const format = (this.weightFormat = weightFormat(precision, ctx.device));
    this.parts = { config, weightFormat: format, layers };
    ctx.attach();
  }

  /** True once destroy() was called. */
  get destroyed(): boolean {
    return this.closing;
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

  /**
   * Runs `work` after every call made before it; refuses at once (code DESTROYED) once destroy() was
   * called. `what` names the call in that error.
   */
  enqueue<R>(what: string, work: () => Promise<R> | R): Promise<R> {
    if (this.closing) return Promise.reject(new RnnError('DESTROYED', `${what}: the model was destroyed`));
    return this.chain(work);
  }

  private chain<R>(work: () => Promise<R> | R): Promise<R> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Runs the network on prepared (time-major) inputs, split into pieces that fit the device if needed. */
  run(inputs: PreparedInputs, options: GpuRunOptions): Promise<GpuRunResult> {
    return this.enqueue(options.stateBuffer ? 'stream push' : 'forward', () => {
      this.checkAlive();
      return runInPieces(this.pieceHost, inputs, options);
    });
  }

  /** What chunking.ts needs to run a call in pieces: the fit test and this model's own operations. */
  private get pieceHost(): PieceHost {
    return {
      config: this.config,
      unfit: (steps, rows, choice) => planUnfit(this.ctx, this.config, steps, rows, this.strategyFor(rows, choice)),
      runNow: (inputs, options) => this.runNow(inputs, options),
      createStateBuffer: (B) => this.createStateBuffer(B),
      writeState: (buffer, B, h0, c0) => this.writeStateNow(buffer, B, h0, c0),
      readState: (buffer, B) => this.readStateNow(buffer, B),
      releaseStateBuffer: (buffer) => this.releaseStateBuffer(buffer),
    };
  }

  private async runNow(inputs: PreparedInputs, options: GpuRunOptions): Promise<GpuRunResult> {
    this.checkAlive();
    const strategy = this.strategyFor(inputs.B, options.strategy);
    const key = `${inputs.T}x${inputs.B}:${strategy}`;
    const plan = this.plan(key, inputs.T, inputs.B, strategy);
    const device = this.ctx.device;
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    let recorded: unknown;
    try {
      if (options.poison) plan.poison();
      plan.writeInputs(inputs.x, inputs.lengths);
      const commands: Command[] = [
        ...(options.stateBuffer ? plan.stateIn(options.stateBuffer) : plan.initialState(inputs.h0, inputs.c0)),
        ...plan.forward,
        ...(options.stateBuffer ? plan.stateOut(options.stateBuffer) : []),
        ...(options.readOutput || options.readState ? plan.readback(options.readState) : []),
      ];
      const encoder = device.createCommandEncoder({ label: plan.tag });
      replay(encoder, commands, plan.tag);
      device.queue.submit([encoder.finish()]);
    } catch (e) {
      recorded = e; // the scopes are popped below either way, so they never leak into the next call
    }
    // (On a lost device popping may fail; the loss is reported below instead.)
    const oom = await device.popErrorScope().catch(() => null);
    const invalid = await device.popErrorScope().catch(() => null);
    try {
      if (recorded !== undefined) throw recorded;
      this.checkAlive();
      if (oom) throw new RnnError('GPU_OUT_OF_MEMORY', `WebGPU out of memory in ${plan.tag}: ${oom.message}`);
      if (invalid) throw new RnnError('GPU_VALIDATION', `WebGPU validation error in ${plan.tag}: ${invalid.message}`);
      const result: GpuRunResult = {};
      if (options.readOutput) result.output = await plan.readOutput();
      if (options.readState) Object.assign(result, await plan.readState());
      return result;
    } catch (e) {
      // The plan's buffers may hold anything now: drop it, destroying them rather than pooling them.
      this.plans.delete(key);
      plan.release(true);
      throw await this.explain(e, plan.tag);
    }
  }

  /** A failure of GPU work as the caller should see it: the device's loss if that is what it was. */
  private async explain(e: unknown, what: string): Promise<unknown> {
    if (e instanceof RnnError && e.code !== 'GPU_VALIDATION') return e;
    if (await this.ctx.lostWithin())
      return new RnnError('DEVICE_LOST', `WebGPU device lost (${this.ctx.lost}) during ${what}: create the model again`, { cause: e });
    if (e instanceof RnnError) return e;
    const err = e as Error;
    // (Dawn rejects a map that another submission invalidated with an OperationError and no message.)
    return new RnnError('GPU_VALIDATION', `WebGPU error in ${what}: ${err?.name ?? 'Error'}${err?.message ? `: ${err.message}` : ' (no message)'}`, {
      cause: e,
    });
  }

  private checkAlive(): void {
    this.ctx.checkAlive();
  }

  private plan(key: string, T: number, B: number, strategy: Strategy): SequencePlan {
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

  /** A GPU buffer holding every layer's state for batch B (a stream's state); set it with writeState. */
  createStateBuffer(B: number): GPUBuffer {
    if (this.closing) throw new RnnError('DESTROYED', 'stream: the model was destroyed');
    const bytes = new PlanSizes(this.config, 1, B).stateBytes;
    if (bytes > this.ctx.limits.maxStorageBufferBindingSize) {
      throw new RnnError(
        'LIMIT_EXCEEDED',
        `stream of batch ${B}: its state needs ${bytes} bytes, above maxStorageBufferBindingSize ${this.ctx.limits.maxStorageBufferBindingSize}`,
      );
    }
    const buffer = this.ctx.buffer(`RnnStream(B=${B}).state`, bytes, STORAGE_USAGE);
    this.streamStates.add(buffer);
    return buffer;
  }

  /** Releases a state buffer after the calls already issued (a stream's close). */
  closeStateBuffer(buffer: GPUBuffer): void {
    if (!this.closing) void this.chain(() => this.releaseStateBuffer(buffer));
  }

  private releaseStateBuffer(buffer: GPUBuffer): void {
    if (this.streamStates.delete(buffer)) this.ctx.release(buffer);
  }

  /** Writes h0 (L·D, B, H_out) / c0 (L·D, B, H) into a state buffer, zeros where absent, after the calls already issued. */
  writeState(buffer: GPUBuffer, B: number, h0?: ArrayLike<number>, c0?: ArrayLike<number>): Promise<void> {
    return this.enqueue('stream reset', () => this.writeStateNow(buffer, B, h0, c0));
  }

  private writeStateNow(buffer: GPUBuffer, B: number, h0?: ArrayLike<number>, c0?: ArrayLike<number>): void {
    this.checkAlive();
    this.ctx.device.queue.writeBuffer(buffer, 0, packState(new PlanSizes(this.config, 1, B), h0, c0));
  }

  /** Reads a stream state buffer back as h_n / c_n, after the calls already issued. */
  readStateBuffer(buffer: GPUBuffer, B: number): Promise<{ hN: Float32Array; cN?: Float32Array }> {
    return this.enqueue('stream state', () => this.readStateNow(buffer, B));
  }

  private async readStateNow(buffer: GPUBuffer, B: number): Promise<{ hN: Float32Array; cN?: Float32Array }> {
    this.checkAlive();
    const s = new PlanSizes(this.config, 1, B);
    try {
      return splitState(s, await readBuffer(this.ctx, 'RnnStream.readState', buffer, s.stateBytes / 4));
    } catch (e) {
      throw await this.explain(e, 'reading a stream state');
    }
  }

  /** GPU bytes this model holds: packed weights plus its cached plans' buffers (pooled sizes). */
  heldBytes(): number {
    let bytes = 0;
    for (const layer of this.parts.layers) bytes += layerWeightBytes(layer);
    for (const plan of this.plans.values()) bytes += plan.bytes;
    return bytes;
  }

  /** Number of cached plans (tests check reuse and eviction). */
  get planCount(): number {
    return this.plans.size;
  }

  /**
   * Refuses new calls at once; frees every buffer (plans, weights, streams left open) once the calls
   * already issued are done. Resolves when they are freed.
   */
  destroy(): Promise<void> {
    if (this.closing) return this.queue.then(() => undefined);
    this.closing = true;
    // Never rejects: callers may drop the promise (destroy() is often not awaited).
    return this.chain(() => {
      for (const plan of this.plans.values()) plan.release();
      this.plans.clear();
      for (const buffer of this.streamStates) this.ctx.release(buffer);
      this.streamStates.clear();
      for (const layer of this.parts.layers) releaseLayerWeights(this.ctx, layer);
      this.ctx.detach();
    }).catch(() => undefined);
  }
}
