/**
 * Everything one call shape (T, B, strategy) needs on the GPU, made once and reused by every later
 * call of that shape: buffers from the pool, uniforms written, bind groups made, and the forward pass
 * recorded as a list of commands (program.ts) that one encoder replays — all layers, no read-back in
 * between:
 *   per-step:   per layer the input projection of all T steps (ops/gemm.ts), then T step dispatches
 *               (ops/recurrent-step.ts; 2·T with LSTM projection, ops/projection.ts);
 *   persistent: per layer the input projection, then one dispatch running the whole time loop
 *               (ops/persistent.ts);
 *   fused:      per layer one dispatch running the whole time loop, input projection included.
 * Around that list a call puts its state's way in (h0 / c0 from the host, or a stream's state buffer)
 * and out (the stream's buffer, and copies into staging buffers for read-back).
 */
import type { RnnConfig } from '../config.js';
import { RnnError } from '../errors.js';
import type { TensorData } from '../tensor.js';
import { F32_BYTES as F32 } from './constants.js';
import type { GpuContext } from './context.js';
import { type GpuTensor, gpuTensor } from './gpu-tensor.js';
import { GATE_LANES, type LayerWeights } from './layer-weights.js';
import { planUnfit } from './limits.js';
import { type LayerCall, recordPerStepLayer, recordPersistentLayer, stepIndex } from './layer-record.js';
import { persistentKernel, persistentLayout } from './ops/persistent.js';
import { type Command, type Recorder, clear, copy } from './program.js';
import { STAGING, mapRead } from './readback.js';
import { OwningRecorder } from './recorder.js';
import { PlanSizes, splitState } from './state.js';
import type { Strategy } from './strategy.js';
import type { WeightFormat } from './wgsl.js';

/** What a model hands a plan: its configuration and uploaded weights. */
export interface ModelParts {
  readonly config: RnnConfig;
  /** How the kernels read the layers' weights. */
  readonly weightFormat: WeightFormat;
  readonly layers: readonly LayerWeights[];
}

export class SequencePlan implements Recorder {
  readonly sizes: PlanSizes;
  readonly tag: string;
  /** The whole forward pass; leaves every layer's final state in slot 0 of its state buffers. */
  readonly forward: readonly Command[];
  private readonly buffers: OwningRecorder;
  private readonly input: GPUBuffer;
  private readonly lengths: GPUBuffer;
  private readonly sequences: [GPUBuffer, GPUBuffer];
  /** Per layer; a call starts and ends with the state in slot 0 (slot 1 only on the per-step path). */
  private readonly states: GPUBuffer[][] = [];
  /** Buffers a run writes besides outputs and states (filled with NaN by poison()). */
  private readonly scratch: GPUBuffer[] = [];
  private readonly outputStaging: GPUBuffer;
  private readonly stateStaging: GPUBuffer;

  constructor(
    readonly ctx: GpuContext,
    private readonly model: ModelParts,
    T: number,
    B: number,
    readonly strategy: Strategy,
  ) {
    const unfit = planUnfit(ctx, model.config, T, B, strategy);
    if (unfit) throw new RnnError('LIMIT_EXCEEDED', `a ${strategy} run of T=${T}, B=${B} does not fit this device: ${unfit}`);
    const s = (this.sizes = new PlanSizes(model.config, T, B));
    const { config } = model;
    this.tag = `SequencePlan(T=${T},B=${B},${strategy})`;
    this.buffers = new OwningRecorder(ctx, this.tag);
    this.input = this.storage('input', T * B * config.input_size);
    this.lengths = this.storage('lengths', B);
    this.sequences = [this.storage('sequence0', s.sequence), this.storage('sequence1', s.sequence)];
    const slots = strategy === 'per-step' ? 2 : 1;
    for (let l = 0; l < config.num_layers; l++) {
      this.states.push(Array.from({ length: slots }, (_, k) => this.storage(`layer${l}.state${k}`, s.layerState)));
    }
    this.outputStaging = this.storage('outputStaging', s.sequence, STAGING);
    this.stateStaging = this.storage('stateStaging', config.num_layers * s.layerState, STAGING);
    try {
      this.forward = strategy === 'per-step' ? this.perStep() : this.persistent();
    } catch (e) {
      this.release(); // give the buffers already taken back
      throw e;
    }
  }

  /** Recorder: a buffer of `elements` f32 the plan owns. */
  storage(name: string, elements: number, usage?: GPUBufferUsageFlags): GPUBuffer {
    return this.buffers.storage(name, elements, usage);
  }

  /** Recorder: a uniform buffer holding `data`, written once, released with the plan. */
  uniform(name: string, data: Uint32Array): GPUBufferBinding {
    return this.buffers.uniform(name, data);
  }

  private whole(buffer: GPUBuffer, elements: number): GpuTensor {
    return gpuTensor(buffer, [elements]);
  }

  /** Layer l's call: input (T·B, I_l) and output (T·B, D·H_out) — the call's input, then the two sequences in turn. */
  private layerCall(l: number, gx: GpuTensor | undefined): LayerCall {
    const { T, B, D, Hout } = this.sizes;
    const w = this.model.layers[l];
    return {
      tag: `${this.tag}.layer${l}`,
      config: this.model.config,
      format: this.model.weightFormat,
      T,
      B,
      weights: w,
      input: l === 0 ? gpuTensor(this.input, [T * B, w.inputSize]) : gpuTensor(this.sequences[(l - 1) % 2], [T * B, w.inputSize]),
      output: gpuTensor(this.sequences[l % 2], [T * B, D * Hout]),
      lengths: gpuTensor(this.lengths, [B], 'u32'),
      gx,
    };
  }

  private perStep(): Command[] {
    const { model, sizes: s } = this;
    const { T, B, D, H } = s;
    const gx = this.whole(this.storage('gx', D * T * B * H * GATE_LANES), D * T * B * H * GATE_LANES);
    const hRaw = model.config.proj_size > 0 ? this.whole(this.storage('hRaw', D * B * H), D * B * H) : undefined;
    this.scratch.push(gx.buffer, ...(hRaw ? [hRaw.buffer] : []));
    const index = stepIndex(this, T);
    const commands = model.layers.flatMap((_, l) => {
      const states = this.states[l].map((b) => this.whole(b, s.layerState)) as [GpuTensor, GpuTensor];
      return recordPerStepLayer(this, this.layerCall(l, gx), index, states, hRaw);
    });
    // After an odd number of steps the final state sits in slot 1; bring it home to slot 0.
    if (T % 2 === 1) for (const [slot0, slot1] of this.states) commands.push(copy(slot1, 0, slot0, 0, s.layerState * F32));
    return commands;
  }

  private persistent(): Command[] {
    const { ctx, model, sizes: s } = this;
    const { T, B, D, H } = s;
    const fused = this.strategy === 'fused';
    const layout = persistentLayout(model.config, B, ctx.limits, ctx.isSoftwareAdapter);
    // Every layer's W_hh from its texture where all have one (software adapters; one kernel serves all layers).
    const wTexture = model.layers.every((w) => w.wHhTexture !== undefined);
    const kernel = persistentKernel(ctx, model.config.mode, model.config.proj_size > 0, layout, fused, model.weightFormat, false, false, wTexture);
    const gx = fused ? undefined : this.whole(this.storage('gx', D * T * B * H * GATE_LANES), D * T * B * H * GATE_LANES);
    if (gx) this.scratch.push(gx.buffer);
    return model.layers.flatMap((_, l) => recordPersistentLayer(this, this.layerCall(l, gx), kernel, this.whole(this.states[l][0], s.layerState)));
  }

  /** Queues the call's input (T, B, I) and lengths (B); all lengths T when absent. */
  writeInputs(x: TensorData, lengths: Int32Array | undefined): void {
    const { T, B } = this.sizes;
    const queue = this.ctx.device.queue;
    queue.writeBuffer(this.input, 0, x instanceof Float32Array ? x : Float32Array.from(x));
    queue.writeBuffer(this.lengths, 0, lengths ? Uint32Array.from(lengths) : new Uint32Array(B).fill(T));
  }

  /**
   * Every layer's starting state: h0 (L·D, B, H_out) and c0 (L·D, B, H) written from the host now,
   * zeros (the returned clears) where absent.
   */
  initialState(h0: TensorData | undefined, c0: TensorData | undefined): Command[] {
    const s = this.sizes;
    const queue = this.ctx.device.queue;
    const hPerLayer = s.hBytes / F32;
    const cPerLayer = s.cBytes / F32;
    const commands: Command[] = [];
    this.states.forEach(([slot0], l) => {
      if (h0) queue.writeBuffer(slot0, 0, Float32Array.from(h0.subarray(l * hPerLayer, (l + 1) * hPerLayer)));
      else commands.push(clear(slot0, 0, s.hBytes));
      if (cPerLayer === 0) return;
      if (c0) queue.writeBuffer(slot0, s.hBytes, Float32Array.from(c0.subarray(l * cPerLayer, (l + 1) * cPerLayer)));
      else commands.push(clear(slot0, s.hBytes, s.cBytes));
    });
    return commands;
  }

  /** Copies a stream's state buffer (all layers, `sizes.stateBytes`) into slot 0 of every layer. */
  stateIn(source: GPUBuffer): Command[] {
    const bytes = this.sizes.layerState * F32;
    return this.states.map(([slot0], l) => copy(source, l * bytes, slot0, 0, bytes));
  }

  stateOut(target: GPUBuffer): Command[] {
    const bytes = this.sizes.layerState * F32;
    return this.states.map(([slot0], l) => copy(slot0, 0, target, l * bytes, bytes));
  }

  /** Copies of the last layer's output (and every layer's final state) into the staging buffers. */
  readback(state: boolean): Command[] {
    const last = this.sequences[(this.model.config.num_layers - 1) % 2];
    return [copy(last, 0, this.outputStaging, 0, this.sizes.sequence * F32), ...(state ? this.stateOut(this.stateStaging) : [])];
  }

  /** Fills every buffer a run writes with NaN, so an element the kernels fail to write shows up. */
  poison(): void {
    const nan = (b: GPUBuffer) => this.ctx.device.queue.writeBuffer(b, 0, new Float32Array(b.size / F32).fill(Number.NaN));
    [...this.sequences, ...this.scratch, ...this.states.flatMap((slots) => slots.slice(1))].forEach(nan);
  }

  /** Maps the output staging buffer (after the submit) and returns a host copy (T, B, D·H_out). */
  readOutput(): Promise<Float32Array> {
    return mapRead(this.outputStaging, this.sizes.sequence);
  }

  /** The staged state as h_n (L·D, B, H_out) and c_n (L·D, B, H). */
  async readState(): Promise<{ hN: Float32Array; cN?: Float32Array }> {
    return splitState(this.sizes, await mapRead(this.stateStaging, this.states.length * this.sizes.layerState));
  }

  /** GPU bytes this plan holds. */
  get bytes(): number {
    return this.buffers.heldBytes;
  }

  /**
   * Gives the plan's buffers back to the pool; with `discard`, destroys them instead (after a failed
   * submission, which may have left them invalid).
   */
  release(discard = false): void {
    this.buffers.release(discard);
  }
}
