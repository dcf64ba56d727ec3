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
import { BufferUsage } from './constants.js';
import type { GpuContext } from './context.js';
import { type GpuTensor, gpuTensor, tensorBinding } from './gpu-tensor.js';
import { GATE_LANES, type LayerWeights, inputProjectionOperands } from './layer-weights.js';
import { planUnfit } from './limits.js';
import { recordGemm } from './ops/gemm.js';
import { persistentKernel, persistentLayout } from './ops/persistent.js';
import { projectionGrid, projectionLayout, projectionPipeline } from './ops/projection.js';
import { chooseStepLayout, stepGrid, stepLayouts, stepPipeline } from './ops/recurrent-step.js';
import { type Command, type Dispatch, type Recorder, clear, copy, dispatch } from './program.js';
import { STAGING, mapRead } from './readback.js';
import { PlanSizes, splitState } from './state.js';
import type { Strategy } from './strategy.js';
import { PERSISTENT_DIMS_FIELDS, STEP_DIMS_FIELDS, packU32Struct } from './uniforms.js';
import type { WeightFormat } from './wgsl.js';

const F32 = 4;
const STORAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
const UNIFORM = BufferUsage.UNIFORM | BufferUsage.COPY_DST;

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
  private readonly owned: GPUBuffer[] = [];
  private readonly input: GPUBuffer;
  private readonly lengths: GPUBuffer;
  private readonly sequences: [GPUBuffer, GPUBuffer];
  /** Per layer; a call starts and ends with the state in slot 0 (slot 1 only on the per-step path). */
  private readonly states: GPUBuffer[][] = [];
  /** Buffers a run writes besides outputs and states (filled with NaN by poison()). */
  private readonly scratch: GPUBuffer[] = [];
  private readonly outputStaging: GPUBuffer;
  private readonly stateStaging: GPUBuffer;

  constructor(readonly ctx: GpuContext, private readonly model: ModelParts, T: number, B: number, readonly strategy: Strategy) {
    const unfit = planUnfit(ctx, model.config, T, B, strategy);
    if (unfit) throw new RnnError('LIMIT_EXCEEDED', `a ${strategy} run of T=${T}, B=${B} does not fit this device: ${unfit}`);
    const s = (this.sizes = new PlanSizes(model.config, T, B));
    const { config } = model;
    this.tag = `SequencePlan(T=${T},B=${B},${strategy})`;
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

  private storage(name: string, elements: number, usage: GPUBufferUsageFlags = STORAGE): GPUBuffer {
    const b = this.ctx.buffer(`${this.tag}.${name}`, elements * F32, usage);
    this.owned.push(b);
    return b;
  }

  /** Recorder: a uniform buffer holding `data`, written once, released with the plan. */
  uniform(name: string, data: Uint32Array): GPUBufferBinding {
    const buffer = this.storage(name, data.length, UNIFORM);
    this.ctx.device.queue.writeBuffer(buffer, 0, data);
    return { buffer, offset: 0, size: data.byteLength };
  }

  private whole(buffer: GPUBuffer, elements: number): GpuTensor {
    return gpuTensor(buffer, [elements]);
  }

  /** Layer l's input (T·B, I_l) and output (T·B, D·H_out): the call's input, then the two sequences in turn. */
  private layerIO(l: number): { input: GpuTensor; output: GpuTensor } {
    const { T, B } = this.sizes;
    const I = this.model.layers[l].inputSize;
    return {
      input: l === 0 ? gpuTensor(this.input, [T * B, I]) : gpuTensor(this.sequences[(l - 1) % 2], [T * B, I]),
      output: gpuTensor(this.sequences[l % 2], [T * B, this.sizes.D * this.sizes.Hout]),
    };
  }

  /** gx (D, T·B, H, 4) = W_ih·x_t + b_ih for every step and direction: one GEMM, batched over directions. */
  private inputProjection(l: number, gx: GpuTensor): Dispatch {
    const { T, B, D, H } = this.sizes;
    const w = this.model.layers[l];
    const { b, bias } = inputProjectionOperands(w, H);
    const N = H * GATE_LANES;
    return recordGemm(this, {
      label: `${this.tag}.layer${l}.inputProjection`, M: T * B, N, K: w.inputSize, batch: D,
      a: this.layerIO(l).input, aBatchStride: 0,
      b, bBatchStride: w.inputSize * N, bias, biasBatchStride: N,
      c: gx, cBatchStride: T * B * N,
      format: this.model.weightFormat,
    });
  }

  private perStep(): Command[] {
    const { ctx, model, sizes: s } = this;
    const { T, B, D, H, Hout } = s;
    const layout = chooseStepLayout(H, Hout, D, B, ctx.isSoftwareAdapter);
    const layouts = stepLayouts(ctx);
    const hasProjection = model.config.proj_size > 0;
    const step = stepPipeline(ctx, model.config.mode, hasProjection, layout, model.weightFormat);
    const grid = stepGrid(H, D, B, layout, ctx.limits);
    const gx = this.whole(this.storage('gx', D * T * B * H * GATE_LANES), D * T * B * H * GATE_LANES);
    const hRaw = hasProjection ? this.storage('hRaw', D * B * H) : undefined;
    this.scratch.push(gx.buffer, ...(hRaw ? [hRaw] : []));

    // Step index: entry s at byte offset s·stride, bound 16 bytes at a time with a dynamic offset.
    const indexStride = ctx.limits.minUniformBufferOffsetAlignment;
    const indices = new Uint32Array((T * indexStride) / F32);
    for (let t = 0; t < T; t++) indices[(t * indexStride) / F32] = t;
    const index = this.uniform('stepIndex', indices);
    const indexGroup = ctx.bindGroup(`${this.tag}.stepIndex`, layouts.index, [{ ...index, size: 16 }]);
    const project = hasProjection ? { pipeline: projectionPipeline(ctx, model.weightFormat), grid: projectionGrid(D, B, Hout, ctx.limits) } : undefined;

    const commands: Command[] = [];
    model.layers.forEach((w, l) => {
      const tag = `${this.tag}.layer${l}`;
      const output = tensorBinding(this.layerIO(l).output);
      commands.push(this.inputProjection(l, gx));
      const dims = this.uniform(`layer${l}.stepDims`, packU32Struct(STEP_DIMS_FIELDS, {
        T, B, H, H_out: Hout, D, w_hh_offset: w.offsets.wHh, b_hh_offset: w.offsets.bHh,
      }));
      const lengths = tensorBinding(this.whole(this.lengths, B));
      const main = ctx.bindGroup(`${tag}.step`, layouts.main, [
        dims, lengths, tensorBinding(gx), tensorBinding(w.params, true), hRaw ? tensorBinding(this.whole(hRaw, D * B * H)) : output,
      ]);
      const projectGroup = hRaw && w.wHr
        ? ctx.bindGroupAt(`${tag}.project`, projectionLayout(ctx), [[0, dims], [1, lengths], [4, output], [5, tensorBinding(w.wHr, true)], [6, tensorBinding(this.whole(hRaw, D * B * H))]])
        : undefined;
      const [a, b] = this.states[l].map((buffer) => tensorBinding(this.whole(buffer, s.layerState)));
      const state = [
        ctx.bindGroup(`${tag}.state0to1`, layouts.state, [a, b, { ...a, size: Math.ceil(a.size! / 16) * 16 }]),
        ctx.bindGroup(`${tag}.state1to0`, layouts.state, [b, a, { ...b, size: Math.ceil(b.size! / 16) * 16 }]),
      ];
      for (let t = 0; t < T; t++) {
        const stepIndex = { group: indexGroup, offsets: [t * indexStride] };
        commands.push(dispatch(`${tag}.step${t}`, step, [main, state[t % 2], stepIndex], grid));
        if (project && projectGroup) commands.push(dispatch(`${tag}.project${t}`, project.pipeline, [projectGroup, state[t % 2], stepIndex], project.grid));
      }
    });
    // After an odd number of steps the final state sits in slot 1; bring it home to slot 0.
    if (T % 2 === 1) for (const [slot0, slot1] of this.states) commands.push(copy(slot1, 0, slot0, 0, s.layerState * F32));
    return commands;
  }

  private persistent(): Command[] {
    const { ctx, model, sizes: s } = this;
    const { T, B, D, H, Hout } = s;
    const fused = this.strategy === 'fused';
    const layout = persistentLayout(model.config, B, ctx.limits, ctx.isSoftwareAdapter);
    const kernel = persistentKernel(ctx, model.config.mode, model.config.proj_size > 0, layout, fused, model.weightFormat);
    const gx = fused ? undefined : this.whole(this.storage('gx', D * T * B * H * GATE_LANES), D * T * B * H * GATE_LANES);
    if (gx) this.scratch.push(gx.buffer);
    const commands: Command[] = [];
    model.layers.forEach((w, l) => {
      const { input, output } = this.layerIO(l);
      if (gx) commands.push(this.inputProjection(l, gx));
      const dims = this.uniform(`layer${l}.persistentDims`, packU32Struct(PERSISTENT_DIMS_FIELDS, {
        T, B, H, H_out: Hout, D, I: w.inputSize,
        w_ih_offset: w.offsets.wIh, b_ih_offset: w.offsets.bIh, w_hh_offset: w.offsets.wHh, b_hh_offset: w.offsets.bHh,
      }));
      const params = tensorBinding(w.params, true);
      const group = ctx.bindGroup(`${this.tag}.layer${l}.persistent`, kernel.layout, [
        dims, tensorBinding(this.whole(this.lengths, B)), tensorBinding(input), params, tensorBinding(output),
        w.wHr ? tensorBinding(w.wHr, true) : params, // no projection: any read-only binding fills the slot
        tensorBinding(this.whole(this.states[l][0], s.layerState)),
        gx ? tensorBinding(gx) : params, // fused: gx unused
      ]);
      commands.push(dispatch(`${this.tag}.layer${l}.persistent`, kernel.pipeline, [group], kernel.grid));
    });
    return commands;
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
    return this.owned.reduce((n, b) => n + b.size, 0);
  }

  /**
   * Gives the plan's buffers back to the pool; with `discard`, destroys them instead (after a failed
   * submission, which may have left them invalid).
   */
  release(discard = false): void {
    for (const b of this.owned) (discard ? this.ctx.discard(b) : this.ctx.release(b));
    this.owned.length = 0;
  }
}
