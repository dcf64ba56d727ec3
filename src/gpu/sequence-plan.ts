/**
 * Everything one (T, B) shape needs on the GPU, made once and reused by every later call of that
 * shape: buffers from the pool, uniforms written, bind groups prebuilt (ping-pong state pairs and a
 * dynamic-offset step index). `encode` only records dispatches: per layer one matmul for the input
 * projection of all T steps, then T step dispatches (plus T projection dispatches for LSTM with
 * proj_size) — all layers in one compute pass, no read-back in between.
 */
import { type RnnConfig, numDirections, outputSize } from '../config.js';
import type { TensorData } from '../tensor.js';
import { BufferUsage } from './constants.js';
import type { GpuContext } from './context.js';
import { dispatchSize, tileCount } from './dispatch.js';
import {
  MATMUL_ROWS, MATMUL_WORKGROUP_SIZE, type MatmulKernel, PROJECT_WORKGROUP_SIZE, type StepKernels, type StepLayout, chooseStepLayout, stepKernels,
} from './kernels.js';
import { GATE_LANES, type LayerWeights } from './layer-weights.js';
import { MATMUL_DIMS_FIELDS, STEP_DIMS_FIELDS, packU32Struct } from './uniforms.js';

const F32 = 4;
const STORAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
const UNIFORM = BufferUsage.UNIFORM | BufferUsage.COPY_DST;
const STAGING = BufferUsage.MAP_READ | BufferUsage.COPY_DST;

/** What a model hands a plan: its configuration, uploaded weights and the matmul kernel. */
export interface ModelParts {
  readonly config: RnnConfig;
  readonly layers: readonly LayerWeights[];
  readonly matmul: MatmulKernel;
}

/** Sizes derived from the configuration and the call shape, in f32 elements unless named bytes. */
export class PlanSizes {
  readonly D: number;
  readonly H: number;
  readonly Hout: number;
  /** Cell-state width per row: H for LSTM, 0 otherwise. */
  readonly Hc: number;
  /** h (D, B, H_out) then c (D, B, H_c): one layer's state. */
  readonly layerState: number;
  /** (T, B, D·H_out) */
  readonly sequence: number;

  constructor(readonly config: RnnConfig, readonly T: number, readonly B: number) {
    this.D = numDirections(config);
    this.H = config.hidden_size;
    this.Hout = outputSize(config);
    this.Hc = config.mode === 'LSTM' ? this.H : 0;
    this.layerState = this.D * B * (this.Hout + this.Hc);
    this.sequence = T * B * this.D * this.Hout;
  }

  get hBytes(): number {
    return this.D * this.B * this.Hout * F32;
  }

  get cBytes(): number {
    return this.D * this.B * this.Hc * F32;
  }

  /** Bytes of the whole state of all layers (a stream keeps one buffer of this size). */
  get stateBytes(): number {
    return this.config.num_layers * this.layerState * F32;
  }
}

export class SequencePlan {
  readonly sizes: PlanSizes;
  private readonly owned: GPUBuffer[] = [];
  private readonly input: GPUBuffer;
  private readonly lengths: GPUBuffer;
  private readonly gx: GPUBuffer;
  private readonly sequences: [GPUBuffer, GPUBuffer];
  private readonly hRaw?: GPUBuffer;
  /** Per layer: [slot 0, slot 1]; a call starts and ends with the state in slot 0. */
  private readonly states: Array<[GPUBuffer, GPUBuffer]> = [];
  private readonly outputStaging: GPUBuffer;
  private readonly stateStaging: GPUBuffer;
  private readonly stepIndexStride: number;
  private readonly matmulGroups: GPUBindGroup[] = [];
  private readonly stepGroups: GPUBindGroup[] = [];
  private readonly projectGroups: GPUBindGroup[] = [];
  /** Per layer: [read slot 0 → write slot 1, read slot 1 → write slot 0]. */
  private readonly stateGroups: Array<[GPUBindGroup, GPUBindGroup]> = [];
  private readonly stepIndexGroup: GPUBindGroup;
  /** Step kernels specialised for this shape (see chooseStepLayout). */
  private readonly step: StepKernels;
  private readonly stepLayout: StepLayout;

  constructor(private readonly ctx: GpuContext, private readonly model: ModelParts, T: number, B: number) {
    const s = (this.sizes = new PlanSizes(model.config, T, B));
    const { config } = model;
    const L = config.num_layers;
    const tag = `SequencePlan(T=${T},B=${B})`;
    this.stepLayout = chooseStepLayout(s.H, B);
    const step = (this.step = stepKernels(ctx, config.mode, config.proj_size > 0, this.stepLayout));
    const buf = (name: string, elements: number, usage: GPUBufferUsageFlags = STORAGE) => {
      const b = ctx.buffer(`${tag}.${name}`, elements * F32, usage);
      this.owned.push(b);
      return b;
    };
    const whole = (buffer: GPUBuffer, elements: number): GPUBufferBinding => ({ buffer, offset: 0, size: elements * F32 });

    this.input = buf('input', T * B * config.input_size);
    this.lengths = buf('lengths', B);
    const gxElements = s.D * T * B * s.H * GATE_LANES; // (D, T·B, H, 4)
    this.gx = buf('gx', gxElements);
    this.sequences = [buf('sequence0', s.sequence), buf('sequence1', s.sequence)];
    if (config.proj_size > 0) this.hRaw = buf('hRaw', s.D * B * s.H);
    for (let l = 0; l < L; l++) this.states.push([buf(`layer${l}.state0`, s.layerState), buf(`layer${l}.state1`, s.layerState)]);
    this.outputStaging = buf('outputStaging', s.sequence, STAGING);
    this.stateStaging = buf('stateStaging', L * s.layerState, STAGING);

    // Step index: entry s at byte offset s·stride, bound 16 bytes at a time with a dynamic offset.
    this.stepIndexStride = ctx.limits.minUniformBufferOffsetAlignment;
    const stepIndex = ctx.buffer(`${tag}.stepIndex`, T * this.stepIndexStride, UNIFORM);
    this.owned.push(stepIndex);
    const indices = new Uint32Array((T * this.stepIndexStride) / F32);
    for (let t = 0; t < T; t++) indices[(t * this.stepIndexStride) / F32] = t;
    ctx.device.queue.writeBuffer(stepIndex, 0, indices);
    this.stepIndexGroup = ctx.bindGroup(`${tag}.stepIndex`, step.indexLayout, [{ buffer: stepIndex, offset: 0, size: 16 }]);

    const stepDims = ctx.buffer(`${tag}.stepDims`, STEP_DIMS_FIELDS.length * F32, UNIFORM);
    this.owned.push(stepDims);
    ctx.device.queue.writeBuffer(stepDims, 0, packU32Struct(STEP_DIMS_FIELDS, { T, B, H: s.H, H_out: s.Hout, D: s.D }));
    const stepDimsBinding = { buffer: stepDims, offset: 0, size: STEP_DIMS_FIELDS.length * F32 };

    for (let l = 0; l < L; l++) {
      const w = model.layers[l];
      const I = w.inputSize;
      const layerInput = l === 0 ? whole(this.input, T * B * I) : whole(this.sequences[(l - 1) % 2], s.sequence);
      const layerOutput = whole(this.sequences[l % 2], s.sequence);
      const matmulDims = ctx.buffer(`${tag}.layer${l}.matmulDims`, MATMUL_DIMS_FIELDS.length * F32, UNIFORM);
      this.owned.push(matmulDims);
      ctx.device.queue.writeBuffer(matmulDims, 0, packU32Struct(MATMUL_DIMS_FIELDS, {
        M: T * B, N: s.H, K: I, a_batch_stride: 0, w_batch_stride: I * s.H, bias_batch_stride: s.H, c_batch_stride: T * B * s.H,
      }));
      this.matmulGroups.push(ctx.bindGroup(`${tag}.layer${l}.matmul`, model.matmul.layout, [
        { buffer: matmulDims, offset: 0, size: MATMUL_DIMS_FIELDS.length * F32 },
        layerInput,
        whole(w.wIh, s.D * I * s.H * GATE_LANES),
        whole(w.bIh, s.D * s.H * GATE_LANES),
        whole(this.gx, gxElements),
      ]));
      this.stepGroups.push(ctx.bindGroup(`${tag}.layer${l}.step`, step.stepLayout, [
        stepDimsBinding,
        whole(this.lengths, B),
        whole(this.gx, gxElements),
        whole(w.wHh, s.D * s.Hout * s.H * GATE_LANES),
        whole(w.bHh, s.D * s.H * GATE_LANES),
        this.hRaw ? whole(this.hRaw, s.D * B * s.H) : layerOutput,
      ]));
      if (this.hRaw && step.projectLayout && w.wHr) {
        this.projectGroups.push(ctx.bindGroupAt(`${tag}.layer${l}.project`, step.projectLayout, [
          [0, stepDimsBinding],
          [1, whole(this.lengths, B)],
          [5, layerOutput],
          [6, whole(w.wHr, s.D * s.Hout * s.H)],
          [7, whole(this.hRaw, s.D * B * s.H)],
        ]));
      }
      const [a, b] = this.states[l].map((buffer) => whole(buffer, s.layerState));
      this.stateGroups.push([
        ctx.bindGroup(`${tag}.layer${l}.state0to1`, step.stateLayout, [a, b]),
        ctx.bindGroup(`${tag}.layer${l}.state1to0`, step.stateLayout, [b, a]),
      ]);
    }
  }

  /** Queues the call's input (T, B, I) and lengths (B); all lengths T when absent. */
  writeInputs(x: TensorData, lengths: Int32Array | undefined): void {
    const { T, B } = this.sizes;
    const queue = this.ctx.device.queue;
    queue.writeBuffer(this.input, 0, x instanceof Float32Array ? x : Float32Array.from(x));
    queue.writeBuffer(this.lengths, 0, lengths ? Uint32Array.from(lengths) : new Uint32Array(B).fill(T));
  }

  /**
   * Sets every layer's starting state: h0 (L·D, B, H_out) and c0 (L·D, B, H) from the host, zeros
   * where absent.
   */
  writeInitialState(encoder: GPUCommandEncoder, h0: TensorData | undefined, c0: TensorData | undefined): void {
    const s = this.sizes;
    const queue = this.ctx.device.queue;
    const hPerLayer = s.hBytes / F32;
    const cPerLayer = s.cBytes / F32;
    for (let l = 0; l < this.states.length; l++) {
      const slot0 = this.states[l][0];
      if (h0) queue.writeBuffer(slot0, 0, Float32Array.from(h0.subarray(l * hPerLayer, (l + 1) * hPerLayer)));
      else encoder.clearBuffer(slot0, 0, s.hBytes);
      if (cPerLayer === 0) continue;
      if (c0) queue.writeBuffer(slot0, s.hBytes, Float32Array.from(c0.subarray(l * cPerLayer, (l + 1) * cPerLayer)));
      else encoder.clearBuffer(slot0, s.hBytes, s.cBytes);
    }
  }

  /** Copies a stream's state buffer (all layers, `sizes.stateBytes`) into slot 0 of every layer. */
  copyStateIn(encoder: GPUCommandEncoder, source: GPUBuffer): void {
    const bytes = this.sizes.layerState * F32;
    this.states.forEach(([slot0], l) => encoder.copyBufferToBuffer(source, l * bytes, slot0, 0, bytes));
  }

  copyStateOut(encoder: GPUCommandEncoder, target: GPUBuffer): void {
    const bytes = this.sizes.layerState * F32;
    this.states.forEach(([slot0], l) => encoder.copyBufferToBuffer(slot0, 0, target, l * bytes, bytes));
  }

  /** Fills every buffer a run writes with NaN, so an element the kernels fail to write shows up. */
  poison(): void {
    const nan = (b: GPUBuffer) => this.ctx.device.queue.writeBuffer(b, 0, new Float32Array(b.size / F32).fill(Number.NaN));
    [this.gx, ...this.sequences, ...(this.hRaw ? [this.hRaw] : []), ...this.states.map(([, slot1]) => slot1)].forEach(nan);
  }

  /** Records the whole network over all T steps; leaves every layer's final state in slot 0. */
  encode(encoder: GPUCommandEncoder): void {
    const { T, B, D, H, Hout } = this.sizes;
    const { config, matmul } = this.model;
    const step = this.step;
    const maxGroups = this.ctx.limits.maxComputeWorkgroupsPerDimension;
    const { workgroupSize, blockB } = this.stepLayout;
    const stepGrid = [
      tileCount(H, workgroupSize, maxGroups, 'recurrent step units (hidden_size)'),
      D * tileCount(B, blockB, maxGroups / D, 'recurrent step rows (directions × batch blocks)'),
    ] as const;
    const projectGrid = dispatchSize(D * B * Hout, PROJECT_WORKGROUP_SIZE, maxGroups);
    const matmulGrid = [
      tileCount(H, MATMUL_WORKGROUP_SIZE, maxGroups, 'input projection units (hidden_size)'),
      tileCount(T * B, MATMUL_ROWS, maxGroups, 'input projection rows (T × B)'),
      D,
    ] as const;

    const pass = encoder.beginComputePass({ label: `RnnForward(T=${T},B=${B})` });
    for (let l = 0; l < config.num_layers; l++) {
      pass.setPipeline(matmul.pipeline);
      pass.setBindGroup(0, this.matmulGroups[l]);
      pass.dispatchWorkgroups(...matmulGrid);
      for (let t = 0; t < T; t++) {
        const stateGroup = this.stateGroups[l][t % 2];
        const indexOffset = [t * this.stepIndexStride];
        pass.setPipeline(step.step);
        pass.setBindGroup(0, this.stepGroups[l]);
        pass.setBindGroup(1, stateGroup);
        pass.setBindGroup(2, this.stepIndexGroup, indexOffset);
        pass.dispatchWorkgroups(...stepGrid);
        if (step.project) {
          pass.setPipeline(step.project);
          pass.setBindGroup(0, this.projectGroups[l]);
          pass.setBindGroup(1, stateGroup);
          pass.setBindGroup(2, this.stepIndexGroup, indexOffset);
          pass.dispatchWorkgroups(...projectGrid);
        }
      }
    }
    pass.end();
    // After an odd number of steps the final state sits in slot 1; bring it home to slot 0.
    if (T % 2 === 1) {
      const bytes = this.sizes.layerState * F32;
      for (const [slot0, slot1] of this.states) encoder.copyBufferToBuffer(slot1, 0, slot0, 0, bytes);
    }
  }

  /** Records copies of the last layer's output and every layer's final state into the staging buffers. */
  encodeReadback(encoder: GPUCommandEncoder, state: boolean): void {
    const s = this.sizes;
    const last = this.sequences[(this.model.config.num_layers - 1) % 2];
    encoder.copyBufferToBuffer(last, 0, this.outputStaging, 0, s.sequence * F32);
    if (state) this.copyStateOut(encoder, this.stateStaging);
  }

  /** Maps the staging buffers (after the submit) and returns the host copies. */
  async readOutput(): Promise<Float32Array> {
    return this.readStaging(this.outputStaging, this.sizes.sequence);
  }

  /** Splits the staged state into h_n (L·D, B, H_out) and c_n (L·D, B, H). */
  async readState(): Promise<{ hN: Float32Array; cN?: Float32Array }> {
    return splitState(this.sizes, await this.readStaging(this.stateStaging, this.states.length * this.sizes.layerState));
  }

  private async readStaging(buffer: GPUBuffer, elements: number): Promise<Float32Array> {
    await buffer.mapAsync(1 /* GPUMapMode.READ */, 0, elements * F32);
    try {
      return new Float32Array(buffer.getMappedRange(0, elements * F32).slice(0));
    } finally {
      buffer.unmap();
    }
  }

  release(): void {
    for (const b of this.owned) this.ctx.release(b);
    this.owned.length = 0;
  }
}

/** State buffer layout (per layer: h (D, B, H_out) then c (D, B, H_c)) → h_n and c_n. */
export function splitState(s: PlanSizes, state: Float32Array): { hN: Float32Array; cN?: Float32Array } {
  const L = s.config.num_layers;
  const hPer = s.hBytes / F32;
  const cPer = s.cBytes / F32;
  const hN = new Float32Array(L * hPer);
  const cN = cPer > 0 ? new Float32Array(L * cPer) : undefined;
  for (let l = 0; l < L; l++) {
    hN.set(state.subarray(l * s.layerState, l * s.layerState + hPer), l * hPer);
    cN?.set(state.subarray(l * s.layerState + hPer, (l + 1) * s.layerState), l * cPer);
  }
  return { hN, cN };
}
