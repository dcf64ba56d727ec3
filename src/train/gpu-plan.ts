/**
 * A training step on the GPU for one batch shape (T, B), recorded once as a command list and replayed
 * into one submission per step: embedding → every layer's forward keeping its activations (per-step
 * kernels with SAVE, dropout between layers) → head → loss → clear the gradients → head backward →
 * every layer's backward (per step: the cell's and the hidden state's dispatches; then the weight
 * gradients as GEMMs over all steps, dL/d(input) for the layer below) → the embedding's gradient →
 * ‖g‖ → the optimizer. The only read-back is the loss and ‖g‖, and only when asked; everything else
 * stays on the GPU. A second step of the same shape creates no GPU objects.
 *
 * Buffers that outlive a plan (parameters, gradients, optimizer state, results) belong to the trainer
 * (gpu-trainer.ts) and are handed in as `shared`; the rest belong to the plan.
 */
import { numDirections, outputSize } from '../config.js';
import { F32_BYTES as F32, STORAGE_USAGE as STORAGE, UNIFORM_USAGE as UNIFORM } from '../gpu/constants.js';
import type { GpuContext } from '../gpu/context.js';
import { type GpuTensor, gpuTensor, tensorBinding } from '../gpu/gpu-tensor.js';
import { type LayerCall, type LayerParams, recordPerStepLayer, recordPersistentLayer, stepIndex } from '../gpu/layer-record.js';
import { persistentKernel, persistentLayout } from '../gpu/ops/persistent.js';
import { GATE_LANES } from '../gpu/layer-weights.js';
import { type BackwardStrategy, backwardKernels, backwardUnfit } from '../gpu/ops/backward.js';
import { RnnError } from '../errors.js';
import { recordGemm } from '../gpu/ops/gemm.js';
import {
  ELEMENTWISE_WORKGROUP_SIZE,
  RESULT_WORDS,
  dropoutPipeline,
  embeddingPipeline,
  lossPipeline,
  optimizerPipeline,
  recordSum,
  shiftPipeline,
} from '../gpu/ops/train-elementwise.js';
import { type Command, type Recorder, clear, copy, dispatch, linearGrid } from '../gpu/program.js';
import {
  BACKWARD_DIMS_FIELDS,
  DROPOUT_DIMS_FIELDS,
  EMBEDDING_DIMS_FIELDS,
  LOSS_DIMS_FIELDS,
  OPTIMIZER_DIMS_FIELDS,
  REDUCE_DIMS_FIELDS,
  SHIFT_DIMS_FIELDS,
  packU32Struct,
} from '../gpu/uniforms.js';
import { type ModelConfig, outputFeatures, rnnFeatures } from './config.js';
import type { FlatLayout } from './layout.js';
import type { OptimizerConfig } from './optim.js';

/** What the trainer owns and every plan uses. */
export interface SharedBuffers {
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  /** Optimizer state: a, b, c (3 × the parameter count). */
  readonly state: GPUBuffer;
  /** [loss, ‖g‖²] of the last step. */
  readonly results: GPUBuffer;
}

/** Where the per-layer tensors of the forward sit. */
interface LayerTensors {
  input: GpuTensor;
  output: GpuTensor;
  saved: GpuTensor;
  states: [GpuTensor, GpuTensor];
  initial: GpuTensor;
  /** Offsets in `saved`. */
  at: { pre: number; c: number; hRaw: number; cPrev: number; hPrev: number };
}

/**
 * The least activation memory a training step of shape (T, B) can keep from the forward for the
 * backward pass (bytes, f32): per layer and direction, what the gates' derivatives need — the
 * pre-activations (LSTM: 4 gates; GRU: 3 and W_hn·h + b_hn; RNN: 1), c_t (LSTM), the unprojected h
 * (proj_size) — and h_t, which is the layer's output; then the first layer's input and the head's
 * output (for the loss's derivative). Dropout masks are not counted: they are recomputed from the seed.
 */
export function minimumActivationBytes(model: ModelConfig, T: number, B: number): number {
  const rnn = model.rnn;
  const H = rnn.hidden_size;
  const gates = rnn.mode === 'LSTM' || rnn.mode === 'GRU' ? 4 : 1;
  const perPosition = gates * H + (rnn.mode === 'LSTM' ? H : 0) + (rnn.proj_size ? H : 0) + outputSize(rnn);
  const rows = !model.head || model.head.on === 'output' ? T * B : B;
  const input = T * B * (model.embedding?.embedding_dim ?? rnn.input_size);
  return F32 * (rnn.num_layers * numDirections(rnn) * T * B * perPosition + input + (model.head ? rows * outputFeatures(model) : 0));
}

/** The buffers that carry the forward's values to the backward pass (activation memory). */
const ACTIVATIONS = /^(x|y|headIn|layer\d+\.(output|saved|dropped))$/;

export class TrainPlan implements Recorder {
  private readonly owned: GPUBuffer[] = [];
  /** Bytes the forward keeps for the backward pass (as asked for; the buffer pool may round buffers up). */
  activationBytes = 0;
  readonly tag: string;
  /** Host data each step writes before replaying. */
  readonly inputs: { x?: GPUBuffer; tokens?: GPUBuffer; lengths: GPUBuffer; target: GPUBuffer; csr?: GPUBuffer; initial: GPUBuffer[] };
  /** Forward and loss: the loss in results[0]. */
  readonly forward: Command[] = [];
  /** Backward after `forward`: every gradient in `shared.grads`, ‖g‖² in results[1]. */
  readonly backward: Command[] = [];
  /** Each layer's final state after `forward`, in the state layout (what a carry keeps, gpu-trainer.ts). */
  readonly finalStates: GPUBuffer[];
  /** The optimizer's update (after `backward`). */
  readonly update: (opt: OptimizerConfig, step: number, lr: number) => Command[];
  /** Copies each layer's dL/dh_t (D, T, B, H_out) into `flow` (gradient flow), when recorded with it. */
  readonly flow?: GPUBuffer;
  /** dL/dh0 and dL/dc0 per layer, in the state layout (h (D, B, H_out) then c (D, B, H)). */
  readonly initialGrads: GPUBuffer;
  /** The model's output after `forward`, time-major: (T·B or B rows, O) — the head's, or the last layer's. */
  readonly prediction: { buffer: GPUBuffer; elements: number };
  private readonly n: number;

  constructor(
    readonly ctx: GpuContext,
    readonly model: ModelConfig,
    readonly layout: FlatLayout,
    readonly shared: SharedBuffers,
    readonly T: number,
    readonly B: number,
    withFlow = false,
    readonly backwardStrategy: BackwardStrategy = 'per-step',
  ) {
    const unfit = backwardUnfit(backwardStrategy, model.rnn, B, ctx.limits);
    if (unfit) throw new RnnError('OPTION_INVALID', `backward strategy "${backwardStrategy}": ${unfit}`);
    const rnn = model.rnn;
    const D = numDirections(rnn);
    const H = rnn.hidden_size;
    const Hout = outputSize(rnn);
    const L = rnn.num_layers;
    const F = rnnFeatures(model);
    const O = outputFeatures(model);
    const TB = T * B;
    const perStep = !model.head || model.head.on === 'output';
    const rows = perStep ? TB : B;
    this.n = layout.size;
    this.tag = `TrainPlan(T=${T},B=${B})`;
    const lstm = rnn.mode === 'LSTM';
    const proj = rnn.proj_size > 0;

    // Inputs from the host.
    const E = model.embedding?.embedding_dim ?? rnn.input_size;
    const x = this.tensor('x', TB * E, [TB, E]);
    const tokens = model.embedding ? this.storage('tokens', TB) : undefined;
    const lengths = this.storage('lengths', B);
    const target = this.storage('target', model.loss === 'mse' ? rows * O : rows);
    const csr = model.embedding ? this.storage('csr', 3 * TB + 1) : undefined; // ids (≤ TB), starts (≤ TB + 1), order (TB)
    const initial: GPUBuffer[] = [];
    const layerState = D * B * (Hout + (lstm ? H : 0));

    // Per-layer tensors.
    const gx = this.tensor('gx', D * TB * H * GATE_LANES, [D * TB * H * GATE_LANES]);
    const hRawScratch = proj ? this.tensor('hRaw', D * B * H, [D * B * H]) : undefined;
    const layers: LayerTensors[] = [];
    for (let l = 0; l < L; l++) {
      const I = l === 0 ? E : F;
      const prevOutput = layers[l - 1]?.output;
      const input = l === 0 ? x : rnn.dropout > 0 ? this.tensor(`layer${l}.dropped`, TB * I, [TB, I]) : prevOutput!;
      const pre = 0;
      const c = pre + D * TB * H * GATE_LANES;
      const hRaw = c + (lstm ? D * TB * H : 0);
      const cPrev = hRaw + (proj ? D * TB * H : 0);
      const hPrev = cPrev + (lstm ? D * TB * H : 0);
      const savedSize = hPrev + D * TB * Hout;
      const init = this.storage(`layer${l}.initial`, layerState);
      initial.push(init);
      layers.push({
        input,
        output: this.tensor(`layer${l}.output`, TB * F, [TB, F]),
        saved: this.tensor(`layer${l}.saved`, savedSize, [savedSize]),
        states: [this.tensor(`layer${l}.state0`, layerState, [layerState]), this.tensor(`layer${l}.state1`, layerState, [layerState])],
        initial: gpuTensor(init, [layerState]),
        at: { pre, c, hRaw, cPrev, hPrev },
      });
    }
    this.inputs = { x: model.embedding ? undefined : x.buffer, tokens, lengths, target, csr, initial };
    const lengthsT = gpuTensor(lengths, [B], 'u32');
    const params = gpuTensor(shared.params, [this.n]);
    const grads = gpuTensor(shared.grads, [this.n]);
    const layerParams = (l: number): LayerParams => {
      const s = layout.layers[l];
      return {
        params: { ...params, offset: s.start, shape: [s.offsets.total * GATE_LANES] },
        offsets: s.offsets,
        wHr: s.wHr === undefined ? undefined : { ...params, offset: s.wHr, shape: [D * rnn.proj_size * H] },
        inputSize: s.inputSize,
      };
    };
    let c = this.forward;

    // Forward: embedding, then each layer (keeping activations), then the shift for its backward.
    if (model.embedding) {
      const { pipeline, layout: bl } = embeddingPipeline(ctx, 'gather');
      const dims = this.uniform('embedding.dims', packU32Struct(EMBEDDING_DIMS_FIELDS, { rows: TB, E, table: layout.embedding!, first: 0 }));
      const group = ctx.bindGroup(`${this.tag}.embedding`, bl, [dims, tensorBinding(gpuTensor(tokens!, [TB], 'u32')), tensorBinding(params), tensorBinding(x)]);
      c.push(dispatch(`${this.tag}.embedding`, pipeline, [group], linearGrid(TB * E, ELEMENTWISE_WORKGROUP_SIZE, ctx.limits)));
    }
    const index = stepIndex(this, T + 1); // the forward's steps 0 … T−1, and T for the fused backward's last dispatch
    // The persistent strategy runs the forward's time loop in one dispatch per layer too.
    const persistentForward =
      backwardStrategy === 'persistent'
        ? persistentKernel(ctx, rnn.mode, proj, persistentLayout(rnn, B, ctx.limits, ctx.isSoftwareAdapter), false, 'f32', true)
        : undefined;
    layers.forEach((t, l) => {
      if (l > 0 && rnn.dropout > 0) {
        c.push(copy(layers[l - 1].output.buffer, 0, t.input.buffer, 0, TB * F * F32));
        c.push(this.dropout(`layer${l}.dropout`, t.input, TB * F, l));
      }
      c.push(copy(t.initial.buffer, 0, t.states[0].buffer, 0, layerState * F32));
      const call: LayerCall = {
        tag: `${this.tag}.layer${l}`,
        config: rnn,
        format: 'f32',
        T,
        B,
        weights: layerParams(l),
        input: t.input,
        output: t.output,
        lengths: lengthsT,
        gx,
      };
      const save = { saved: t.saved, pre: t.at.pre, c: t.at.c, hRaw: t.at.hRaw };
      if (persistentForward) {
        c.push(...recordPersistentLayer(this, call, persistentForward, t.states[0], save)); // reads the initial state, leaves the final one
      } else {
        c.push(...recordPerStepLayer(this, call, index, t.states, hRawScratch, save));
        if (T % 2 === 1) c.push(copy(t.states[1].buffer, 0, t.states[0].buffer, 0, layerState * F32));
      }
      const shift = shiftPipeline(ctx, lstm);
      const shiftDims = this.uniform(
        `layer${l}.shiftDims`,
        packU32Struct(SHIFT_DIMS_FIELDS, { T, B, H, H_out: Hout, D, h_prev: t.at.hPrev, c_prev: t.at.cPrev, c: t.at.c }),
      );
      const shiftGroup = ctx.bindGroup(`${this.tag}.layer${l}.shift`, shift.layout, [
        shiftDims,
        tensorBinding(lengthsT),
        tensorBinding(t.output),
        tensorBinding(t.initial),
        tensorBinding(t.saved),
      ]);
      c.push(
        dispatch(
          `${this.tag}.layer${l}.shift`,
          shift.pipeline,
          [shiftGroup],
          linearGrid(D * T * B * Math.max(H, Hout), ELEMENTWISE_WORKGROUP_SIZE, ctx.limits),
        ),
      );
    });

    // Head and loss. headIn: the last layer's output, or cat(h_n[−D:]) gathered from its final state.
    const last = layers[L - 1];
    let headIn = last.output;
    if (!perStep) {
      headIn = this.tensor('headIn', B * F, [B, F]);
      for (let d = 0; d < D; d++)
        for (let b = 0; b < B; b++) c.push(copy(last.states[0].buffer, (d * B + b) * Hout * F32, headIn.buffer, (b * F + d * Hout) * F32, Hout * F32));
    }
    const ones = this.tensor('ones', Math.max(TB, rows), [Math.max(TB, rows)]);
    ctx.device.queue.writeBuffer(ones.buffer, 0, new Float32Array(Math.max(TB, rows)).fill(1));
    const y = model.head ? this.tensor('y', rows * O, [rows, O]) : last.output;
    this.prediction = { buffer: y.buffer, elements: rows * O };
    if (model.head) {
      c.push(
        recordGemm(this, {
          label: `${this.tag}.head`,
          M: rows,
          N: O,
          K: F,
          batch: 1,
          transB: true,
          a: headIn,
          aBatchStride: 0,
          b: { ...params, offset: layout.headWeight!, shape: [O, F] },
          bBatchStride: 0,
          bias: layout.headBias === undefined ? undefined : { ...params, offset: layout.headBias, shape: [O] },
          biasBatchStride: 0,
          c: y,
          cBatchStride: 0,
          format: 'f32',
        }),
      );
    }
    // dL/dy; without a head it is the last layer's dL/d(output).
    const dOut = [this.tensor('dOut0', TB * F, [TB, F]), this.tensor('dOut1', TB * F, [TB, F])];
    const dOutOf = (l: number) => dOut[(L - 1 - l) % 2];
    const dy = model.head ? this.tensor('dy', rows * O, [rows, O]) : dOutOf(L - 1);
    const rowLoss = this.tensor('rowLoss', rows, [rows]);
    const loss = lossPipeline(ctx, model.loss);
    this.lossDims = this.uniform('loss.dims', packU32Struct(LOSS_DIMS_FIELDS, { rows, O, scale: 1 }));
    const lossGroup = ctx.bindGroup(`${this.tag}.loss`, loss.layout, [
      this.lossDims,
      tensorBinding(y),
      tensorBinding(gpuTensor(target, [rows * (model.loss === 'mse' ? O : 1)])),
      tensorBinding(gpuTensor(target, [rows], 'u32')),
      tensorBinding(dy),
      tensorBinding(rowLoss),
    ]);
    c.push(dispatch(`${this.tag}.loss`, loss.pipeline, [lossGroup], linearGrid(rows, ELEMENTWISE_WORKGROUP_SIZE, ctx.limits)));
    c.push(...this.sum('loss', rowLoss, rows, false, 0));
    c = this.backward;
    c.push(clear(shared.grads, 0, this.n * F32));

    // Head backward: dW = dyᵀ·headIn, db = 1ᵀ·dy, dHeadIn = dy·W.
    const gstateSize = 2 * D * B * Hout + D * B * H + D * B * Hout;
    const gstate = this.tensor('gstate', gstateSize, [gstateSize]);
    let dHeadIn: GpuTensor | undefined;
    if (model.head) {
      c.push(
        recordGemm(this, {
          label: `${this.tag}.head.dW`,
          M: O,
          N: F,
          K: rows,
          batch: 1,
          transA: true,
          a: dy,
          aBatchStride: 0,
          b: headIn,
          bBatchStride: 0,
          c: { ...grads, offset: layout.headWeight!, shape: [O, F] },
          cBatchStride: 0,
          format: 'f32',
        }),
      );
      if (layout.headBias !== undefined) {
        c.push(
          recordGemm(this, {
            label: `${this.tag}.head.db`,
            M: 1,
            N: O,
            K: rows,
            batch: 1,
            a: ones,
            aBatchStride: 0,
            b: dy,
            bBatchStride: 0,
            c: { ...grads, offset: layout.headBias, shape: [O] },
            cBatchStride: 0,
            format: 'f32',
          }),
        );
      }
      dHeadIn = perStep ? dOutOf(L - 1) : this.tensor('dHeadIn', B * F, [B, F]);
      c.push(
        recordGemm(this, {
          label: `${this.tag}.head.dIn`,
          M: rows,
          N: F,
          K: O,
          batch: 1,
          a: dy,
          aBatchStride: 0,
          b: { ...params, offset: layout.headWeight!, shape: [O, F] },
          bBatchStride: 0,
          c: dHeadIn,
          cBatchStride: 0,
          format: 'f32',
        }),
      );
    }
    if (!perStep) c.push(clear(dOutOf(L - 1).buffer, 0, TB * F * F32)); // the outputs themselves do not reach the loss

    // Each layer's backward, newest layer first.
    const dgX = 0;
    const dgSize = D * TB * H * GATE_LANES;
    const dgH = rnn.mode === 'GRU' ? dgSize : dgX;
    const dhHist = (rnn.mode === 'GRU' ? 2 : 1) * dgSize;
    const dg = this.tensor('dg', dhHist + D * TB * Hout, [dhHist + D * TB * Hout]);
    const kernels = backwardKernels(ctx, rnn, B, 'f32');
    const backIndex = ctx.bindGroup(`${this.tag}.backIndex`, kernels.indexLayout, [{ ...index.uniform, size: 16 }]);
    if (withFlow) this.flow = this.storage('flow', L * D * TB * Hout);
    this.initialGrads = this.storage('initialGrads', L * layerState);
    for (let l = L - 1; l >= 0; l--) {
      const t = layers[l];
      const s = layout.layers[l];
      const lp = layerParams(l);
      const I = l === 0 ? E : F;
      c.push(clear(gstate.buffer, 0, gstateSize * F32));
      if (!perStep && l === L - 1 && dHeadIn) {
        const first = ((T - 1) % 2) * D * B * Hout;
        for (let d = 0; d < D; d++)
          for (let b = 0; b < B; b++) c.push(copy(dHeadIn.buffer, (b * F + d * Hout) * F32, gstate.buffer, (first + (d * B + b) * Hout) * F32, Hout * F32));
      }
      const dims = this.uniform(
        `layer${l}.backDims`,
        packU32Struct(BACKWARD_DIMS_FIELDS, {
          T,
          B,
          H,
          H_out: Hout,
          D,
          w_hh_offset: s.start / GATE_LANES + s.offsets.wHh,
          w_hr_offset: s.wHr ?? 0,
          pre: t.at.pre,
          c: t.at.c,
          h_raw: t.at.hRaw,
          h_prev: t.at.hPrev,
          c_prev: t.at.cPrev,
          dg_x: dgX,
          dg_h: dgH,
          dh_hist: dhHist,
          dout_stride: F,
        }),
      );
      const group = ctx.bindGroup(`${this.tag}.layer${l}.backward`, kernels.layout, [
        dims,
        tensorBinding(lengthsT),
        tensorBinding(t.saved),
        tensorBinding(params, true),
        tensorBinding(dOutOf(l)),
        tensorBinding(dg),
        tensorBinding(gstate),
      ]);
      for (let step = T - 1; step >= 0 && this.backwardStrategy !== 'persistent'; step--) {
        const offsets = { group: backIndex, offsets: [step * index.stride] };
        if (this.backwardStrategy === 'fused') {
          c.push(dispatch(`${this.tag}.layer${l}.fusedBackward${step}`, kernels.fused, [group, offsets], kernels.fusedGrid));
          continue;
        }
        c.push(dispatch(`${this.tag}.layer${l}.cellBackward${step}`, kernels.cell, [group, offsets], kernels.cellGrid));
        c.push(dispatch(`${this.tag}.layer${l}.hiddenBackward${step}`, kernels.hidden, [group, offsets], kernels.hiddenGrid));
      }
      // The fused path's last dispatch (s = T): the hidden half alone, dL/dh0 where per-step leaves it.
      if (this.backwardStrategy === 'fused')
        c.push(
          dispatch(`${this.tag}.layer${l}.fusedBackwardLast`, kernels.fused, [group, { group: backIndex, offsets: [T * index.stride] }], kernels.fusedGrid),
        );
      if (this.backwardStrategy === 'persistent')
        c.push(dispatch(`${this.tag}.layer${l}.persistentBackward`, kernels.persistent, [group, { group: backIndex, offsets: [0] }], kernels.persistentGrid));
      if (this.flow) c.push(copy(dg.buffer, dhHist * F32, this.flow, l * D * TB * Hout * F32, D * TB * Hout * F32));
      // dL/dh0 (the dh copy step s = 0 wrote: copy 1) and dL/dc0 of this layer.
      c.push(copy(gstate.buffer, D * B * Hout * F32, this.initialGrads, l * layerState * F32, D * B * Hout * F32));
      if (lstm) c.push(copy(gstate.buffer, 2 * D * B * Hout * F32, this.initialGrads, (l * layerState + D * B * Hout) * F32, D * B * H * F32));
      // The weight gradients, over all steps at once.
      const at = (off: number, shape: number[]): GpuTensor => ({ ...grads, offset: s.start + off * GATE_LANES, shape });
      const dgx = { ...dg, offset: dgX, shape: [D * TB, H * GATE_LANES] };
      const dgh = { ...dg, offset: dgH, shape: [D * TB, H * GATE_LANES] };
      const N = H * GATE_LANES;
      c.push(
        recordGemm(this, {
          label: `${this.tag}.layer${l}.dW_ih`,
          M: I,
          N,
          K: TB,
          batch: D,
          transA: true,
          a: t.input,
          aBatchStride: 0,
          b: dgx,
          bBatchStride: TB * N,
          c: at(s.offsets.wIh, [I, N]),
          cBatchStride: I * N,
          format: 'f32',
        }),
      );
      c.push(
        recordGemm(this, {
          label: `${this.tag}.layer${l}.dW_hh`,
          M: Hout,
          N,
          K: TB,
          batch: D,
          transA: true,
          a: { ...t.saved, offset: t.at.hPrev, shape: [D * TB, Hout] },
          aBatchStride: TB * Hout,
          b: dgh,
          bBatchStride: TB * N,
          c: at(s.offsets.wHh, [Hout, N]),
          cBatchStride: Hout * N,
          format: 'f32',
        }),
      );
      if (rnn.bias) {
        for (const [name, g, off] of [
          ['db_ih', dgx, s.offsets.bIh],
          ['db_hh', dgh, s.offsets.bHh],
        ] as const) {
          c.push(
            recordGemm(this, {
              label: `${this.tag}.layer${l}.${name}`,
              M: 1,
              N,
              K: TB,
              batch: D,
              a: ones,
              aBatchStride: 0,
              b: g,
              bBatchStride: TB * N,
              c: at(off, [N]),
              cBatchStride: N,
              format: 'f32',
            }),
          );
        }
      }
      if (proj) {
        c.push(
          recordGemm(this, {
            label: `${this.tag}.layer${l}.dW_hr`,
            M: rnn.proj_size,
            N: H,
            K: TB,
            batch: D,
            transA: true,
            a: { ...dg, offset: dhHist, shape: [D * TB, Hout] },
            aBatchStride: TB * Hout,
            b: { ...t.saved, offset: t.at.hRaw, shape: [D * TB, H] },
            bBatchStride: TB * H,
            c: { ...grads, offset: s.wHr!, shape: [rnn.proj_size, H] },
            cBatchStride: rnn.proj_size * H,
            format: 'f32',
          }),
        );
      }
      // dL/d(input) = Σ_d dg_x[d]·W_ih[d], for the layer below or the embedding.
      if (l > 0 || model.embedding) {
        const dIn = l > 0 ? dOutOf(l - 1) : this.tensor('dEmbedded', TB * E, [TB, E]);
        for (let d = 0; d < D; d++) {
          c.push(
            recordGemm(this, {
              label: `${this.tag}.layer${l}.dX${d}`,
              M: TB,
              N: I,
              K: N,
              batch: 1,
              transB: true,
              beta: d === 0 ? 0 : 1,
              a: { ...dg, offset: dgX + d * TB * N, shape: [TB, N] },
              aBatchStride: 0,
              b: { ...lp.params, offset: s.start + (s.offsets.wIh + d * I * H) * GATE_LANES, shape: [I, N] },
              bBatchStride: 0,
              c: dIn,
              cBatchStride: 0,
              format: 'f32',
            }),
          );
        }
        if (l > 0 && rnn.dropout > 0) c.push(this.dropout(`layer${l}.dropoutBack`, dIn, TB * I, l));
        if (l === 0 && model.embedding) {
          const { pipeline, layout: bl } = embeddingPipeline(ctx, 'scatter_grad');
          this.embeddingDims = this.uniform('embedding.gradDims', packU32Struct(EMBEDDING_DIMS_FIELDS, { rows: 0, E, table: layout.embedding!, first: 0 }));
          const g = ctx.bindGroup(`${this.tag}.embeddingGrad`, bl, [
            this.embeddingDims,
            tensorBinding(gpuTensor(csr!, [3 * TB + 1], 'u32')),
            tensorBinding(dIn),
            tensorBinding(grads),
          ]);
          c.push(dispatch(`${this.tag}.embeddingGrad`, pipeline, [g], linearGrid(TB * E, ELEMENTWISE_WORKGROUP_SIZE, ctx.limits)));
        }
      }
    }
    // ‖g‖² (after clip_grad_value_, whose clip the trainer writes) into results[1].
    this.normDims = this.uniform('norm.dims', packU32Struct(REDUCE_DIMS_FIELDS, { n: this.n, offset: 0, out: 0, clip: 0 }));
    c.push(...this.sum('norm', grads, this.n, true, 1, this.normDims));
    this.finalStates = layers.map((t) => t.states[0].buffer);

    this.update = (opt, step, lr) => {
      const { pipeline, layout: bl } = optimizerPipeline(ctx, opt.name, opt);
      const dims = (this.optimizerDims ??= this.uniform('optimizer.dims', new Uint32Array(OPTIMIZER_DIMS_FIELDS.length)));
      ctx.device.queue.writeBuffer(
        dims.buffer,
        0,
        packU32Struct(OPTIMIZER_DIMS_FIELDS, {
          n: this.n,
          first_step: step === 1 ? 1 : 0,
          norm_index: 1,
          clip_by_norm: opt.clip_grad_norm === undefined ? 0 : 1,
          lr,
          momentum: opt.momentum,
          dampening: opt.dampening,
          weight_decay: opt.weight_decay,
          beta1: opt.betas[0],
          beta2: opt.betas[1],
          eps: opt.eps,
          alpha: opt.alpha,
          bias_correction1: 1 - opt.betas[0] ** step,
          bias_correction2_sqrt: Math.sqrt(1 - opt.betas[1] ** step),
          clip_value: opt.clip_grad_value ?? 0,
          max_norm: opt.clip_grad_norm ?? 0,
          step,
        }),
      );
      const group =
        this.optimizerGroups.get(pipeline) ??
        ctx.bindGroup(`${this.tag}.optimizer`, bl, [
          dims,
          tensorBinding(params),
          tensorBinding(grads),
          tensorBinding(gpuTensor(shared.state, [3 * this.n])),
          tensorBinding(gpuTensor(shared.results, [RESULT_WORDS], 'u32')),
        ]);
      this.optimizerGroups.set(pipeline, group);
      return [dispatch(`${this.tag}.optimizer`, pipeline, [group], linearGrid(this.n, ELEMENTWISE_WORKGROUP_SIZE, ctx.limits))];
    };
  }

  /** Uniforms a step rewrites: the loss's scale, the embedding gradient's distinct-token count, the norm's clip. */
  lossDims!: GPUBufferBinding;
  embeddingDims?: GPUBufferBinding;
  normDims!: GPUBufferBinding;
  private optimizerDims?: GPUBufferBinding;
  private readonly optimizerGroups = new Map<GPUComputePipeline, GPUBindGroup>();

  private dropout(label: string, t: GpuTensor, n: number, layer: number): Command {
    const { pipeline, layout: bl } = dropoutPipeline(this.ctx);
    const dims = this.uniform(`${label}.dims`, packU32Struct(DROPOUT_DIMS_FIELDS, { n, seed: 0, stream: layer, p: this.model.rnn.dropout }));
    this.dropoutDims.push(dims);
    const group = this.ctx.bindGroup(`${this.tag}.${label}`, bl, [dims, tensorBinding(t)]);
    return dispatch(`${this.tag}.${label}`, pipeline, [group], linearGrid(n, ELEMENTWISE_WORKGROUP_SIZE, this.ctx.limits));
  }

  /** Dropout uniforms, whose seed each step rewrites. */
  readonly dropoutDims: GPUBufferBinding[] = [];

  /** Two-pass sum of `n` values of `t` (squared with `square`) into results[slot]. */
  /** Σ t (or Σ t², clipped as `firstDims` says) into results[slot] (recordSum). */
  private sum(label: string, t: GpuTensor, n: number, square: boolean, slot: number, firstDims?: GPUBufferBinding): Command[] {
    return recordSum(this, label, t, n, square, this.shared.results, slot, firstDims);
  }

  private tensor(name: string, elements: number, shape: number[]): GpuTensor {
    return gpuTensor(this.storage(name, elements), shape);
  }

  /** Recorder: a buffer of `elements` f32 the plan owns (checked against the device's binding limit first). */
  storage(name: string, elements: number, usage: GPUBufferUsageFlags = STORAGE): GPUBuffer {
    const bytes = Math.max(1, elements) * F32;
    const limit = Math.min(this.ctx.limits.maxStorageBufferBindingSize, this.ctx.limits.maxBufferSize);
    if (bytes > limit) {
      this.release();
      throw new RnnError(
        'LIMIT_EXCEEDED',
        `a training step of T=${this.T}, B=${this.B}: its ${name} needs ${bytes} bytes, above this device's ${limit} (maxStorageBufferBindingSize); train on shorter windows or smaller batches`,
      );
    }
    const b = this.ctx.buffer(`${this.tag}.${name}`, Math.max(1, elements) * F32, usage);
    this.owned.push(b);
    if (ACTIVATIONS.test(name)) this.activationBytes += Math.max(1, elements) * F32; // what is kept, not the pool's rounding
    return b;
  }

  /** GPU bytes the plan holds (its own buffers; the trainer's shared ones not included). */
  get heldBytes(): number {
    return this.owned.reduce((sum, b) => sum + b.size, 0);
  }

  /** Dispatches of one training step (forward, backward, update), in all and per recurrent layer. */
  get dispatches(): { total: number; perLayer: number[] } {
    const perLayer = new Array<number>(this.model.rnn.num_layers).fill(0);
    let total = 1; // the update
    for (const c of [...this.forward, ...this.backward]) {
      if (c.kind !== 'dispatch') continue;
      total++;
      const layer = /\.layer(\d+)\./.exec(c.label);
      if (layer) perLayer[Number(layer[1])]++;
    }
    return { total, perLayer };
  }

  /** Recorder: a uniform buffer holding `data`, written now, released with the plan. */
  uniform(name: string, data: Uint32Array): GPUBufferBinding {
    const buffer = this.storage(name, data.length, UNIFORM);
    this.ctx.device.queue.writeBuffer(buffer, 0, data);
    return { buffer, offset: 0, size: data.byteLength };
  }

  release(): void {
    for (const b of this.owned) this.ctx.release(b);
    this.owned.length = 0;
  }
}
