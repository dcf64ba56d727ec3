/**
 * The recurrent layer on the GPU, recorded once per batch shape from the ops of src/gpu/ops/:
 *   forward   per stacked layer: dropout on its input (layers after the first), the initial state into
 *             the state buffer, recurrent dropout's mask over h_{t−1} (its scales, at the head of `saved`,
 *             which the kernels read), the layer's time loop keeping its activations (the per-step kernels
 *             with SAVE, or the persistent kernel's, layer-record.ts), then the shift (what each step
 *             saw as h_{t−1}, c_{t−1}); and cat(h_n[−D:]) for a head that reads it;
 *   backward  newest layer first: the reverse time loop (the backward op, one of three strategies),
 *             the weight gradients as GEMMs over all steps at once, dL/d(input) as GEMMs into the
 *             layer below (through its dropout mask), or into the layer before this one where one wants it.
 * An embedding's output may come as its table and ids instead (takesLookup): the first layer then
 * projects the table's rows, not the positions', and its input gradients are per table row.
 * The layer runs over its role's sequence (index.ts's RecurrentRole): the batch's (T steps, its lengths)
 * or an encoder–decoder's source (S steps, the source lengths) or target (T steps). Its initial state is
 * a value another layer made (a bridge's), copied in by the forward, or written by write() from the
 * batch's h0 / c0 (zeros where absent) — which the engine's carried-state copies then replace. Its
 * final states are an output too (a bridge reads them), and their gradient enters the backward where
 * dL/dh_n does. The gradient flow and dL/dh0, dL/dc0 are kept for `gradients`.
 */
import { type RnnConfig, numDirections } from '../../../config.js';
import { F32_BYTES as F32 } from '../../../gpu/constants.js';
import { type GpuTensor, gpuTensor } from '../../../gpu/gpu-tensor.js';
import { type LayerCall, type LayerParams, recordPerStepLayer, recordPersistentLayer } from '../../../gpu/layer-record.js';
import { GATE_LANES } from '../../../gpu/layer-weights.js';
import {
  type BackwardStrategy,
  type SavedLayout,
  backwardKernels,
  gradientStateLayout,
  hiddenScratchFloats,
  recordLayerBackward,
  savedLayout,
} from '../../../gpu/ops/backward.js';
import { type RecordedDropout, recordDropout } from '../../../gpu/ops/dropout.js';
import { type RecordedGrad, recordEmbeddingGrad } from '../../../gpu/ops/embedding.js';
import { modeGateLanes, recordGemm } from '../../../gpu/ops/gemm.js';
import { recordGatherLast, recordScatterLast } from '../../../gpu/ops/last-state.js';
import { persistentKernel, persistentLayout } from '../../../gpu/ops/persistent.js';
import { recordShift } from '../../../gpu/ops/shift.js';
import { type Command, clear, copy } from '../../../gpu/program.js';
import { PlanSizes } from '../../../gpu/state.js';
import { recurrentMaskStream } from '../../../reference/rng.js';
import type { PreparedBatch } from '../../batch.js';
import type { GpuLayer, PlanContext, TableLookup } from '../layer.js';
import type { RecurrentRole } from './role.js';
import type { RecurrentSection } from './section.js';
import { chooseBackward } from './strategy.js';
import { copyBiasGradient } from '../bias-gradient-copy.js';

/** How the plan runs the recurrence. */
export interface RecurrentGpuOptions {
  /** Forced, or 'auto': each recurrent layer takes the fastest that fits its shape (strategy.ts). */
  readonly strategy: BackwardStrategy | 'auto';
  /** Keep dL/dh_t of every layer and step (gradient flow). */
  readonly flow: boolean;
}

/** A plan's options: the recurrence's, and what the plan is for (layer.ts's PlanContext.purpose). */
export interface PlanOptions extends RecurrentGpuOptions {
  readonly purpose?: 'train' | 'infer';
}

/** A stacked layer's tensors. */
interface StackedLayer {
  input: GpuTensor;
  output: GpuTensor;
  saved: GpuTensor;
  states: [GpuTensor, GpuTensor];
  initial: GpuTensor;
  /** Float offsets in `saved`: the pre-activations, c_t, the unprojected h, c_{t−1}, h_{t−1} (and recurrent dropout's). */
  at: SavedLayout;
  dropout?: RecordedDropout;
  /** Training with recurrent_dropout: fills the mask's scales of h_{t−1} in `saved` before the time loop. */
  recurrentMask?: RecordedDropout;
}

export class RecurrentGpu implements GpuLayer {
  /** The backward strategy this layer runs (chosen for its configuration and the plan's batch). */
  readonly strategy: BackwardStrategy;
  /** Steps of its sequence: the plan's T, or S for an encoder. */
  readonly T: number;
  /** Per stacked layer, its initial state (the state layout: h (D, B, H_out) then c (D, B, H)): written before a replay. */
  readonly initialStates: GPUBuffer[] = [];
  /** Per stacked layer, its final state after the forward. */
  readonly finalStates: GPUBuffer[] = [];
  /** The forward's copies of an initial state another layer made into `initialStates` (a decoding runs them once). */
  readonly initialCopies: Command[] = [];
  /** dL/dh0 then dL/dc0 per stacked layer, in the state layout, after the backward. */
  readonly initialGrads: GPUBuffer;
  /** dL/dh_t (L, D, T, B, H_out) after the backward, with gradient flow. */
  readonly flow?: GPUBuffer;
  private readonly sizes: PlanSizes;
  private readonly stack: StackedLayer[] = [];
  private readonly gx: GpuTensor;
  private readonly hRawScratch?: GpuTensor;
  private readonly backDropouts: RecordedDropout[] = [];
  /** The first layer's input taken as a table lookup (takesLookup), and its backward's groupings of positions by id. */
  private lookup?: { source: TableLookup; V: number; projected: GpuTensor; grads: RecordedGrad[] };

  private readonly flowKept: boolean;
  private readonly layer: { readonly name: string; readonly config: RnnConfig };
  /** The rows' lengths of its sequence (B, u32). */
  private readonly lengths: GpuTensor;

  constructor(
    private readonly plan: PlanContext,
    name: string,
    config: RnnConfig,
    private readonly section: RecurrentSection,
    private readonly role: RecurrentRole = { sequence: 'batch', streamBase: 0 },
  ) {
    this.layer = { name, config };
    this.flowKept = plan.recurrence.flow;
    const rnn = config;
    const B = plan.B;
    const T = (this.T = role.sequence === 'source' ? plan.S : plan.T);
    this.lengths = role.sequence === 'source' ? plan.sourceLengths : plan.lengths;
    this.strategy = chooseBackward(rnn, plan.recurrence.strategy, B, plan.ctx.limits, plan.ctx.isSoftwareAdapter);
    const sizes = (this.sizes = new PlanSizes(rnn, T, B));
    const { D, H, Hout } = sizes;
    const TB = T * B;
    const F = D * Hout;
    const proj = rnn.proj_size > 0;
    this.gx = plan.tensor(`${name}.gx`, D * TB * H * GATE_LANES, [D * TB * H * GATE_LANES], 'work');
    this.hRawScratch = proj ? plan.tensor(`${name}.hRaw`, D * B * H, [D * B * H], 'work') : undefined;
    for (let l = 0; l < rnn.num_layers; l++) {
      const { size: savedSize, ...at } = savedLayout(rnn, T, B);
      const layerState = sizes.layerState;
      const training = plan.purpose === 'train';
      const initial = plan.tensor(`${name}.layer${l}.initial`, layerState, [layerState], 'work');
      // Inference runs the steps from the initial state itself, and leaves the final state there.
      const states: [GpuTensor, GpuTensor] = [
        training ? plan.tensor(`${name}.layer${l}.state0`, layerState, [layerState], 'work') : initial,
        plan.tensor(`${name}.layer${l}.state1`, layerState, [layerState], 'work'),
      ];
      this.stack.push({
        // The first layer's input is the value it is given; a later one's its own (dropped-out) copy or the layer below's output.
        input: l > 0 && training && rnn.dropout > 0 ? plan.tensor(`${name}.layer${l}.dropped`, TB * F, [TB, F], 'activation') : plan.params,
        output: plan.tensor(`${name}.layer${l}.output`, TB * F, [TB, F], training ? 'activation' : 'work'),
        saved: training ? plan.tensor(`${name}.layer${l}.saved`, savedSize, [savedSize], 'activation') : plan.params,
        states,
        initial,
        at,
      });
      this.initialStates.push(initial.buffer);
      this.finalStates.push(states[0].buffer);
    }
    this.initialGrads =
      plan.purpose === 'infer'
        ? initialGradsUnused(plan)
        : plan.tensor(`${name}.initialGrads`, rnn.num_layers * sizes.layerState, [rnn.num_layers * sizes.layerState], 'work').buffer;
    if (this.flowKept && plan.purpose === 'train')
      this.flow = plan.tensor(`${name}.flow`, rnn.num_layers * D * TB * Hout, [rnn.num_layers * D * TB * Hout], 'work').buffer;
  }

  /**
   * The first layer takes an embedding's output as its table when the vocabulary is smaller than half
   * the batch's positions: the input projection is then made for the V rows of the table and gathered
   * (V·E·4H multiply-adds instead of T·B·E·4H), and the backward sums dg_x per id first (the
   * embedding's grouping), so dW_ih, db_ih and dL/d(table) are GEMMs over V rows, not T·B — the same
   * sums in another order.
   */
  takesLookup(i: number, lookup: TableLookup): boolean {
    const V = lookup.table.shape[0];
    if (i !== 0 || lookup.positions !== this.T * this.plan.B || 2 * V > lookup.positions) return false;
    const { D, H } = this.sizes;
    const projected = this.plan.tensor(`${this.layer.name}.projectedTable`, D * V * H * GATE_LANES, [D * V * H * GATE_LANES], 'work');
    this.lookup = { source: lookup, V, projected, grads: [] };
    return true;
  }

  private owner(l: number): string {
    return `${this.layer.name}.layer${l}`;
  }

  private layerParams(l: number): LayerParams {
    const s = this.section.layers[l];
    const rnn = this.layer.config;
    return {
      params: { ...this.plan.params, offset: s.start, shape: [s.offsets.total * GATE_LANES] },
      offsets: s.offsets,
      wHr: s.wHr === undefined ? undefined : { ...this.plan.params, offset: s.wHr, shape: [numDirections(rnn) * rnn.proj_size * rnn.hidden_size] },
      inputSize: s.inputSize,
    };
  }

  forward(inputs: readonly GpuTensor[], wanted: readonly boolean[]): { outputs: Array<GpuTensor | undefined>; commands: Command[] } {
    const { plan } = this;
    const rnn = this.layer.config;
    const { T } = this;
    const { B } = plan;
    const { D, H, Hout, layerState } = this.sizes;
    const TB = T * B;
    const F = D * Hout;
    const index = plan.stepIndex();
    // The persistent strategy runs the forward's time loop in one dispatch per layer too.
    const persistentForward =
      this.strategy === 'persistent' && plan.purpose === 'train'
        ? persistentKernel(
            plan.ctx,
            rnn.mode,
            rnn.proj_size > 0,
            persistentLayout(rnn, B, plan.ctx.limits, plan.ctx.isSoftwareAdapter),
            false,
            'f32',
            true,
            rnn.recurrent_dropout > 0,
          )
        : undefined;
    const training = plan.purpose === 'train';
    const commands: Command[] = [];
    // An initial state made by another layer (per layer, the state layout) into each layer's initial state.
    if (this.role.initial) {
      this.stack.forEach((t, l) =>
        this.initialCopies.push(copy(inputs[1].buffer, (inputs[1].offset + l * layerState) * F32, t.initial.buffer, 0, layerState * F32)),
      );
      commands.push(...this.initialCopies);
    }
    this.stack.forEach((t, l) => {
      const c: Command[] = [];
      if (l === 0) t.input = inputs[0];
      else if (training && rnn.dropout > 0) {
        c.push(copy(this.stack[l - 1].output.buffer, 0, t.input.buffer, 0, TB * F * F32));
        t.dropout = recordDropout(plan, { label: `${this.owner(l)}.dropout`, tensor: t.input, n: TB * F, stream: this.role.streamBase + l, p: rnn.dropout });
        c.push(t.dropout.command);
      } else t.input = this.stack[l - 1].output;
      if (training) c.push(copy(t.initial.buffer, 0, t.states[0].buffer, 0, layerState * F32));
      if (training && rnn.recurrent_dropout > 0) {
        // One mask per (direction, row) over h_{t−1}, for every step of this sequence (the kernels scale by it).
        t.recurrentMask = recordDropout(plan, {
          label: `${this.owner(l)}.recurrentMask`,
          tensor: t.saved,
          n: D * B * Hout,
          stream: recurrentMaskStream(this.role.streamBase, l),
          p: rnn.recurrent_dropout,
          fill: true,
        });
        c.push(t.recurrentMask.command);
      }
      const call: LayerCall = {
        tag: this.owner(l),
        config: rnn,
        format: 'f32',
        T,
        B,
        weights: this.layerParams(l),
        input: t.input,
        output: t.output,
        lengths: this.lengths,
        gx: this.gx,
        lookup: l === 0 && this.lookup ? { table: this.lookup.source.table, ids: this.lookup.source.ids, projected: this.lookup.projected } : undefined,
      };
      const save = training ? { saved: t.saved, pre: t.at.pre, c: t.at.c, hRaw: t.at.hRaw, mask: t.at.mask } : undefined;
      if (persistentForward) {
        c.push(...recordPersistentLayer(plan, call, persistentForward, t.states[0], save)); // reads the initial state, leaves the final one
      } else {
        c.push(...recordPerStepLayer(plan, call, index, t.states, this.hRawScratch, save));
        if (T % 2 === 1) c.push(copy(t.states[1].buffer, 0, t.states[0].buffer, 0, layerState * F32));
      }
      if (training) {
        c.push(
          recordShift(plan, {
            label: `${this.owner(l)}.shift`,
            T,
            B,
            H,
            Hout,
            D,
            lstm: rnn.mode === 'LSTM',
            lengths: this.lengths,
            output: t.output,
            initial: t.initial,
            saved: t.saved,
            at: t.at,
          }),
        );
      }
      commands.push(...plan.count(this.owner(l), c));
    });
    const last = this.stack[this.stack.length - 1];
    let lastOut: GpuTensor | undefined;
    if (wanted[1]) {
      lastOut = plan.tensor(`${this.layer.name}.last`, B * F, [B, F], 'activation');
      commands.push(
        recordGatherLast(plan, {
          label: `${this.layer.name}.gatherLast`,
          B,
          Hout,
          D,
          state: gpuTensor(last.states[0].buffer, [D * B * Hout]),
          features: lastOut,
        }),
      );
    }
    let state: GpuTensor | undefined;
    if (wanted[2]) {
      // Every layer's final state, side by side (joinStateValue's layout).
      state = plan.tensor(`${this.layer.name}.state`, rnn.num_layers * layerState, [rnn.num_layers * layerState], 'work');
      this.finalStates.forEach((buffer, l) => commands.push(copy(buffer, 0, state!.buffer, l * layerState * F32, layerState * F32)));
    }
    return { outputs: [last.output, lastOut, state], commands };
  }

  backward(dOutputs: readonly (GpuTensor | undefined)[], dInputs: readonly (GpuTensor | undefined)[]): Command[] {
    const { plan } = this;
    const rnn = this.layer.config;
    const { T } = this;
    const { B } = plan;
    const { D, H, Hout, layerState } = this.sizes;
    const TB = T * B;
    const F = D * Hout;
    const L = rnn.num_layers;
    const N = H * GATE_LANES;
    const dState = dOutputs[2];
    if (dState && dOutputs[1]) throw new Error(`${this.layer.name}: gradients into both cat(h_n[−D:]) and the final state are not summed`);
    const commands: Command[] = [];
    // dL/d(output) of each stacked layer: the last one's is given (zeros where nothing reads the
    // sequence, a head on h_n); the layers below alternate between two buffers.
    const dOutLast = dOutputs[0] ?? plan.tensor(`${this.layer.name}.dOutZero`, TB * F, [TB, F], 'work');
    if (!dOutputs[0]) commands.push(clear(dOutLast.buffer, 0, TB * F * F32));
    const below =
      L > 1 ? [plan.tensor(`${this.layer.name}.dOut0`, TB * F, [TB, F], 'work'), plan.tensor(`${this.layer.name}.dOut1`, TB * F, [TB, F], 'work')] : [];
    const dOutOf = (l: number) => (l === L - 1 ? dOutLast : below[(L - 2 - l) % 2]);
    const dgSize = D * TB * N;
    const dgLayout = { x: 0, h: rnn.mode === 'GRU' ? dgSize : 0, hist: (rnn.mode === 'GRU' ? 2 : 1) * dgSize };
    const dg = plan.tensor(`${this.layer.name}.dg`, dgLayout.hist + D * TB * Hout, [dgLayout.hist + D * TB * Hout], 'work');
    const kernels = backwardKernels(plan.ctx, rnn, B, 'f32');
    const gLayout = gradientStateLayout(
      rnn,
      T,
      B,
      this.strategy === 'persistent' ? (kernels.regroup?.floats ?? 0) : this.strategy === 'per-step' ? hiddenScratchFloats(rnn, B) : 0,
    );
    const gstateSize = gLayout.size;
    const gstate = plan.tensor(`${this.layer.name}.gstate`, gstateSize, [gstateSize], 'work');
    for (let l = L - 1; l >= 0; l--) {
      const c: Command[] = [];
      const t = this.stack[l];
      const s = this.section.layers[l];
      const I = s.inputSize;
      c.push(clear(gstate.buffer, 0, gLayout.wT * F32)); // the regrouped W_hh past wT is rewritten by its dispatch
      if (dState) {
        // dL/dh_n and dL/dc_n of this layer enter where the first backward step reads the recurrent gradients.
        c.push(copy(dState.buffer, (dState.offset + l * layerState) * F32, gstate.buffer, gLayout.first * F32, D * B * Hout * F32));
        if (rnn.mode === 'LSTM')
          c.push(copy(dState.buffer, (dState.offset + l * layerState + D * B * Hout) * F32, gstate.buffer, gLayout.dc * F32, D * B * H * F32));
      }
      if (l === L - 1 && dOutputs[1]) {
        // dL/dh_n of the last layer enters as the recurrent gradient the first backward step reads.
        const first = gLayout.first;
        c.push(
          recordScatterLast(plan, {
            label: `${this.layer.name}.scatterLast`,
            B,
            Hout,
            D,
            state: gpuTensor(gstate.buffer, [D * B * Hout], 'f32', first),
            features: dOutputs[1],
          }),
        );
      }
      c.push(
        ...recordLayerBackward(plan, {
          tag: this.owner(l),
          config: rnn,
          T,
          B,
          strategy: this.strategy,
          kernels,
          lengths: this.lengths,
          saved: t.saved,
          at: t.at,
          params: plan.params,
          start: s.start,
          wHh: s.offsets.wHh,
          wHr: s.wHr,
          dOut: dOutOf(l),
          dg,
          dgLayout,
          gstate,
          index: plan.stepIndex(),
        }),
      );
      if (this.flow) c.push(copy(dg.buffer, dgLayout.hist * F32, this.flow, l * D * TB * Hout * F32, D * TB * Hout * F32));
      // dL/dh0 and dL/dc0 of this layer, into the state layout.
      c.push(copy(gstate.buffer, gLayout.dh0 * F32, this.initialGrads, l * layerState * F32, D * B * Hout * F32));
      if (rnn.mode === 'LSTM') c.push(copy(gstate.buffer, gLayout.dc * F32, this.initialGrads, (l * layerState + D * B * Hout) * F32, D * B * H * F32));
      // The weight gradients, over all steps at once.
      const grad = (off: number, shape: number[]): GpuTensor => ({ ...plan.grads, offset: s.start + off * GATE_LANES, shape });
      const dgx = { ...dg, offset: dgLayout.x, shape: [D * TB, N] };
      const dgh = { ...dg, offset: dgLayout.h, shape: [D * TB, N] };
      const tag = this.owner(l);
      const lookup = l === 0 ? this.lookup : undefined;
      c.push(
        recordGemm(plan, {
          label: `${tag}.dW_hh`,
          M: Hout,
          N,
          K: TB,
          batch: D,
          transA: true,
          a: { ...t.saved, offset: t.at.hPrevMasked ?? t.at.hPrev, shape: [D * TB, Hout] }, // what W_hh multiplied
          aBatchStride: TB * Hout,
          b: dgh,
          bBatchStride: TB * N,
          c: grad(s.offsets.wHh, [Hout, N]),
          cBatchStride: Hout * N,
          format: 'f32',
          gateLanes: modeGateLanes(rnn.mode, 'columns'),
        }),
      );
      if (rnn.bias) {
        c.push(
          recordGemm(plan, {
            label: `${tag}.db_hh`,
            M: 1,
            N,
            K: TB,
            batch: D,
            a: plan.ones(TB),
            aBatchStride: 0,
            b: dgh,
            bBatchStride: TB * N,
            c: grad(s.offsets.bHh, [N]),
            cBatchStride: N,
            format: 'f32',
            gateLanes: modeGateLanes(rnn.mode, 'columns'),
          }),
        );
      }
      if (s.wHr !== undefined) {
        c.push(
          recordGemm(plan, {
            label: `${tag}.dW_hr`,
            M: rnn.proj_size,
            N: H,
            K: TB,
            batch: D,
            transA: true,
            a: { ...dg, offset: dgLayout.hist, shape: [D * TB, Hout] },
            aBatchStride: TB * Hout,
            b: { ...t.saved, offset: t.at.hRaw, shape: [D * TB, H] },
            bBatchStride: TB * H,
            c: { ...plan.grads, offset: s.wHr, shape: [rnn.proj_size, H] },
            cBatchStride: rnn.proj_size * H,
            format: 'f32',
          }),
        );
      }
      // W_ih's and b_ih's gradients and dL/d(input), for the layer below or for whatever made this
      // layer's input — over the T·B positions, or, with the input taken as a table, over its V rows
      // from dg_x summed per id (the table's gradient then being dL/d(input)).
      const dIn = l > 0 ? dOutOf(l - 1) : dInputs[0];
      if (lookup) {
        const perId = this.recordPerIdSums(lookup, dgx);
        c.push(...perId.commands, ...this.recordInputGradients(l, lookup.V, lookup.source.table, perId.sums, { into: lookup.source.grad, label: 'dTable' }));
      } else {
        c.push(...this.recordInputGradients(l, TB, t.input, dgx, dIn && { into: dIn, label: 'dX' }));
        if (dIn && l > 0 && t.dropout) {
          const back = recordDropout(plan, { label: `${tag}.dropoutBack`, tensor: dIn, n: TB * I, stream: this.role.streamBase + l, p: rnn.dropout });
          this.backDropouts.push(back);
          c.push(back.command);
        }
      }
      commands.push(...plan.count(this.owner(l), c));
    }
    // dL/d(initial state) of every layer, for the layer that made it.
    if (this.role.initial && dInputs[1]) commands.push(copy(this.initialGrads, 0, dInputs[1].buffer, dInputs[1].offset * F32, L * layerState * F32));
    return commands;
  }

  /**
   * The first layer's input taken as a table (takesLookup): per direction, dg_x summed over the
   * positions of each id (the embedding's grouping, no float atomics) into dP (D, V, 4H) — what the
   * table's rows contributed to the gates, for recordInputGradients.
   */
  private recordPerIdSums(lookup: NonNullable<RecurrentGpu['lookup']>, dgx: GpuTensor): { sums: GpuTensor; commands: Command[] } {
    const { plan } = this;
    const { D, H } = this.sizes;
    const { V } = lookup;
    const N = H * GATE_LANES;
    const TB = this.T * plan.B;
    const dP = plan.tensor(`${this.layer.name}.dTableProjection`, D * V * N, [D * V, N], 'work');
    const commands: Command[] = [clear(dP.buffer, 0, D * V * N * F32)]; // ids absent from the batch keep zeros
    for (let d = 0; d < D; d++) {
      const g = recordEmbeddingGrad(plan, {
        label: `${this.owner(0)}.dgPerId${d}`,
        positions: TB,
        E: N,
        dx: { ...dgx, offset: dgx.offset + d * TB * N, shape: [TB, N] },
        grad: { ...dP, offset: d * V * N, shape: [V, N] },
      });
      lookup.grads.push(g);
      commands.push(g.command);
    }
    return { sums: dP, commands };
  }

  /**
   * Stacked layer l's input-side gradients from its gates' gradients over `rows` rows per direction
   * (`dg` (D, rows, 4H)) and the input those rows saw (`input` (rows, I)): dW_ih = inputᵀ·dg,
   * db_ih = Σ_rows dg, and dL/d(input) = Σ_d dg[d]·W_ih[d]ᵀ into `dInput` where one is wanted.
   * The rows are the T·B positions, or the V rows of a table the layer took (recordPerIdSums).
   */
  private recordInputGradients(l: number, rows: number, input: GpuTensor, dg: GpuTensor, dInput: { into: GpuTensor; label: string } | undefined): Command[] {
    const { plan } = this;
    const rnn = this.layer.config;
    const s = this.section.layers[l];
    const { D, H } = this.sizes;
    const N = H * GATE_LANES;
    const I = s.inputSize;
    const tag = this.owner(l);
    const c: Command[] = [];
    const grad = (off: number, shape: number[]): GpuTensor => ({ ...plan.grads, offset: s.start + off * GATE_LANES, shape });
    c.push(
      recordGemm(plan, {
        label: `${tag}.dW_ih`,
        M: I,
        N,
        K: rows,
        batch: D,
        transA: true,
        a: input,
        aBatchStride: 0,
        b: dg,
        bBatchStride: rows * N,
        c: grad(s.offsets.wIh, [I, N]),
        cBatchStride: I * N,
        format: 'f32',
        gateLanes: modeGateLanes(rnn.mode, 'columns'),
      }),
    );
    if (rnn.bias && rnn.mode !== 'GRU') {
      // db_ih is db_hh (dg_x and dg_h share storage; over a taken table's V rows, the same sum regrouped).
      c.push(...copyBiasGradient(plan, tag, grad(s.offsets.bHh, [D * N]), grad(s.offsets.bIh, [D * N]), D * N));
    } else if (rnn.bias) {
      c.push(
        recordGemm(plan, {
          label: `${tag}.db_ih`,
          M: 1,
          N,
          K: rows,
          batch: D,
          a: plan.ones(rows),
          aBatchStride: 0,
          b: dg,
          bBatchStride: rows * N,
          c: grad(s.offsets.bIh, [N]),
          cBatchStride: N,
          format: 'f32',
          gateLanes: modeGateLanes(rnn.mode, 'columns'),
        }),
      );
    }
    if (!dInput) return c;
    for (let d = 0; d < D; d++) {
      c.push(
        recordGemm(plan, {
          label: `${tag}.${dInput.label}${d}`,
          M: rows,
          N: I,
          K: N,
          batch: 1,
          transB: true,
          beta: d === 0 ? 0 : 1,
          a: { ...dg, offset: dg.offset + d * rows * N, shape: [rows, N] },
          aBatchStride: 0,
          b: { ...plan.params, offset: s.start + (s.offsets.wIh + d * I * H) * GATE_LANES, shape: [I, N] },
          bBatchStride: 0,
          c: dInput.into,
          cBatchStride: 0,
          format: 'f32',
          gateLanes: modeGateLanes(rnn.mode, 'k'),
        }),
      );
    }
    return c;
  }

  /**
   * Before a replay: dropout's seed, and whether it drops (training) or not (evaluation); the initial
   * states from the batch's h0 / c0 (zeros where absent), unless another layer makes them.
   */
  write(queue: GPUQueue, batch: PreparedBatch, step: { seed: number; training: boolean }): void {
    for (const t of this.stack) {
      t.dropout?.set(queue, step.seed, step.training);
      t.recurrentMask?.set(queue, step.seed, step.training);
    }
    for (const d of this.backDropouts) d.set(queue, step.seed, step.training);
    if (this.lookup?.grads.length) {
      const ids = this.lookup.source.hostIds(batch);
      for (const g of this.lookup.grads) g.write(queue, ids);
    }
    if (!this.role.initial) this.writeInitial(queue, batch.h0, batch.c0);
  }

  /** The initial states from the host: h0 (L·D, B, H_out) and c0 (L·D, B, H), zeros where absent. */
  private writeInitial(queue: GPUQueue, h0?: ArrayLike<number>, c0?: ArrayLike<number>): void {
    const s = this.sizes;
    const hPer = s.hBytes / F32;
    const cPer = s.cBytes / F32;
    this.initialStates.forEach((buffer, l) => {
      const state = new Float32Array(s.layerState);
      if (h0) for (let k = 0; k < hPer; k++) state[k] = h0[l * hPer + k];
      if (c0) for (let k = 0; k < cPer; k++) state[hPer + k] = c0[l * cPer + k];
      queue.writeBuffer(buffer, 0, state);
    });
  }
}

/** An inference plan keeps no gradients: a placeholder buffer of one element. */
function initialGradsUnused(plan: PlanContext): GPUBuffer {
  return plan.tensor('rnn.noGradients', 1, [1], 'work').buffer;
}
