/**
 * The decoder with attention inside its recurrence on the GPU, recorded once per batch shape:
 *   forward   the score's projection of the keys ("general": keys·Wᵀ, "concat": keys·W_kᵀ; "dot" reads
 *             the keys), then the attentive decoder op (gpu/ops/attentive-decoder.ts) — all steps, all
 *             stacked layers and every step's attention in one dispatch — and copies of what others read
 *             out of its `saved` buffer: the output, α, the queries (and concat's W_q q);
 *   backward  the op's reverse loop (one dispatch), then over all steps at once: the attention's own
 *             backward from the contexts' gradients (gpu/ops/attention.ts: dL/dkeys, the score's
 *             operands' and v's gradients), the score's weight gradients as GEMMs, and each stacked
 *             layer's weight gradients as GEMMs over its kept inputs and gate gradients.
 * With an inference plan (decoding: one step at a time) the final state is copied back over the
 * initial one, so the next replay continues from it; decode-gpu.ts reorders it between steps.
 */
import { type RnnConfig, outputSize } from '../../../config.js';
import { F32_BYTES as F32 } from '../../../gpu/constants.js';
import type { GpuTensor } from '../../../gpu/gpu-tensor.js';
import { GATE_LANES } from '../../../gpu/layer-weights.js';
import { recordAttendBackward } from '../../../gpu/ops/attention.js';
import { type RecordedAttentive, attentiveLayout, recordAttentiveDecoder } from '../../../gpu/ops/attentive-decoder.js';
import { type Command, clear, copy } from '../../../gpu/program.js';
import type { AttentionShape } from '../../../reference/attention.js';
import { modeGateLanes } from '../../../gpu/ops/gemm.js';
import { gemm } from '../attention/gpu.js';
import { copyBiasGradient } from '../bias-gradient-copy.js';
import type { GpuLayer, PlanContext } from '../layer.js';
import type { RecurrentLayerSection } from '../recurrent/section.js';

export interface AttentiveGpuSetup {
  readonly name: string;
  readonly config: RnnConfig;
  readonly attention: { readonly name: string; readonly shape: AttentionShape };
  /** The stacked layers' packed weights, and the score's parameters (float offsets by full name). */
  readonly layers: readonly RecurrentLayerSection[];
  readonly scoreOffsets: Readonly<Record<string, number>>;
  readonly streamBase: number;
  /** Whether the layer reads an initial state (a bridge's). */
  readonly hasInitial: boolean;
}

/** A state the decoding reorders between steps: `rows` rows of `width` floats from float `offset`. */
export interface DecoderStatePart {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly width: number;
}

export class AttentiveDecoderGpu implements GpuLayer {
  /** α (T·B, S), for the decoding's attention history. */
  readonly alpha: GpuTensor;
  /** The state a decoding carries from step to step (h, then c, of each stacked layer). */
  readonly decoderStates: DecoderStatePart[] = [];
  /** The forward's commands that set the initial state (a decoding runs them once). */
  readonly initialCopies: Command[] = [];
  private op!: RecordedAttentive;
  private readonly layout: ReturnType<typeof attentiveLayout>;
  private readonly saved: GpuTensor;
  private readonly grad: GpuTensor;
  private readonly initial: GpuTensor;
  private readonly queries: GpuTensor;
  private readonly scoreQ?: GpuTensor;
  private scoreK!: GpuTensor;
  private keys!: GpuTensor;
  private embedded!: GpuTensor;
  private readonly E: number;
  private readonly Hk: number;
  private readonly Hq: number;
  private readonly A: number;

  constructor(
    private readonly plan: PlanContext,
    private readonly setup: AttentiveGpuSetup,
  ) {
    const { config, attention } = setup;
    const { T, B, S } = plan;
    const TB = T * B;
    this.Hk = attention.shape.Hk;
    this.Hq = outputSize(config);
    this.E = setup.layers[0].inputSize - this.Hk;
    this.A = attention.shape.kind === 'concat' ? attention.shape.A : 0;
    this.layout = attentiveLayout({ config, T, B, S, E: this.E, Hk: this.Hk, A: this.A });
    const training = plan.purpose === 'train';
    const kind = training ? 'activation' : 'work';
    this.saved = plan.tensor(`${setup.name}.saved`, this.layout.saved.size, [this.layout.saved.size], kind);
    this.grad = training
      ? plan.tensor(`${setup.name}.grad`, this.layout.grad.size, [this.layout.grad.size], 'work')
      : plan.tensor(`${setup.name}.noGrad`, 4, [4], 'work');
    const L = config.num_layers;
    this.initial = plan.tensor(`${setup.name}.initial`, L * this.layout.layerState, [L * this.layout.layerState], 'work');
    this.alpha = plan.tensor(`${setup.name}.alpha`, TB * S, [TB, S], kind);
    this.queries = plan.tensor(`${setup.name}.queries`, TB * this.Hq, [TB, this.Hq], kind);
    if (this.A > 0) this.scoreQ = plan.tensor(`${setup.name}.scoreQ`, TB * this.A, [TB, this.A], kind);
    for (let l = 0; l < L; l++) {
      const at = l * this.layout.layerState;
      this.decoderStates.push({ buffer: this.initial.buffer, offset: at, width: this.Hq });
      if (config.mode === 'LSTM') this.decoderStates.push({ buffer: this.initial.buffer, offset: at + B * this.Hq, width: config.hidden_size });
    }
  }

  private param(name: string, shape: number[]): GpuTensor {
    return { ...this.plan.params, offset: this.setup.scoreOffsets[name], shape };
  }

  private paramGrad(name: string, shape: number[]): GpuTensor {
    return { ...this.plan.grads, offset: this.setup.scoreOffsets[name], shape };
  }

  forward(inputs: readonly GpuTensor[]): { outputs: Array<GpuTensor | undefined>; commands: Command[] } {
    const { plan, setup } = this;
    const { T, B, S } = plan;
    const TB = T * B;
    const SB = S * B;
    const { name } = setup.attention;
    const kind = setup.attention.shape.kind;
    [this.embedded, this.keys] = inputs;
    const commands: Command[] = [];
    this.scoreK = this.keys;
    if (kind === 'general') {
      this.scoreK = plan.tensor(`${setup.name}.scoreK`, SB * this.Hq, [SB, this.Hq], 'activation');
      commands.push(
        gemm(plan, `${name}.scoreK`, SB, this.Hq, this.Hk, this.keys, this.param(`${name}.weight`, [this.Hq, this.Hk]), this.scoreK, { transB: true }),
      );
    } else if (kind === 'concat') {
      this.scoreK = plan.tensor(`${setup.name}.scoreK`, SB * this.A, [SB, this.A], 'activation');
      commands.push(
        gemm(plan, `${name}.scoreK`, SB, this.A, this.Hk, this.keys, this.param(`${name}.key.weight`, [this.A, this.Hk]), this.scoreK, { transB: true }),
      );
    }
    const stateBytes = this.initial.shape[0] * F32;
    // The initial state: a bridge's, or zeros.
    this.initialCopies.push(
      setup.hasInitial ? copy(inputs[2].buffer, inputs[2].offset * F32, this.initial.buffer, 0, stateBytes) : clear(this.initial.buffer, 0, stateBytes),
    );
    const { config, attention } = setup;
    this.op = recordAttentiveDecoder(plan, {
      label: setup.name,
      config,
      T,
      B,
      S,
      E: this.E,
      Hk: this.Hk,
      A: this.A,
      kind: kind === 'concat' ? 'concat' : 'dot',
      layers: setup.layers.map((l) => ({
        wIh: l.start / GATE_LANES + l.offsets.wIh,
        bIh: l.start / GATE_LANES + l.offsets.bIh,
        wHh: l.start / GATE_LANES + l.offsets.wHh,
        bHh: l.start / GATE_LANES + l.offsets.bHh,
      })),
      wq: setup.scoreOffsets[`${attention.name}.query.weight`],
      v: setup.scoreOffsets[`${attention.name}.v.weight`],
      dropout: config.dropout,
      streamBase: setup.streamBase,
      lengths: plan.sourceLengths,
      params: plan.params,
      keys: this.keys,
      scoreK: this.scoreK,
      embedded: this.embedded,
      initial: this.initial,
      saved: this.saved,
      grad: this.grad,
    });
    commands.push(...this.initialCopies, ...this.op.forward);
    const s = this.layout.saved;
    const output = plan.tensor(`${setup.name}.output`, TB * this.Hq, [TB, this.Hq], plan.purpose === 'train' ? 'activation' : 'work');
    commands.push(
      copy(this.saved.buffer, s.output * F32, output.buffer, 0, TB * this.Hq * F32),
      copy(this.saved.buffer, s.alpha * F32, this.alpha.buffer, 0, TB * S * F32),
    );
    if (plan.purpose === 'train') {
      commands.push(copy(this.saved.buffer, s.query * F32, this.queries.buffer, 0, TB * this.Hq * F32));
      if (this.scoreQ) commands.push(copy(this.saved.buffer, s.scoreQ * F32, this.scoreQ.buffer, 0, TB * this.A * F32));
    } else {
      // The next replay (the next decoding step) starts where this one ended.
      commands.push(
        copy(this.saved.buffer, (s.state + (T % 2) * this.setup.config.num_layers * this.layout.layerState) * F32, this.initial.buffer, 0, stateBytes),
      );
    }
    return { outputs: [output], commands: plan.count(setup.name, commands) };
  }

  backward(dOutputs: readonly (GpuTensor | undefined)[], dInputs: readonly (GpuTensor | undefined)[]): Command[] {
    const { plan, setup } = this;
    const { config } = setup;
    const { T, B, S } = plan;
    const TB = T * B;
    const SB = S * B;
    const J = this.Hk + this.Hq;
    const { name } = setup.attention;
    const kind = setup.attention.shape.kind;
    const g = this.layout.grad;
    const sv = this.layout.saved;
    const L = config.num_layers;
    const H = config.hidden_size;
    const N = H * GATE_LANES;
    const commands: Command[] = [];
    const work = (what: string, rows: number, cols: number) => plan.tensor(`${setup.name}.${what}`, rows * cols, [rows, cols], 'work');
    let dOut = dOutputs[0];
    if (!dOut) {
      dOut = work('dOutZero', TB, this.Hq);
      commands.push(clear(dOut.buffer, 0, TB * this.Hq * F32));
    }
    // The carried gradients start at zero (nothing reads the final state).
    commands.push(clear(this.grad.buffer, g.dh * F32, (g.direct - g.dh) * F32), ...this.op.backward(dOut, dInputs[0]));
    const dJoined = work('dJoined', TB, J);
    commands.push(copy(this.grad.buffer, g.djoined * F32, dJoined.buffer, 0, TB * J * F32));
    // The attention's way back over all steps: dL/dkeys and the key-side operands' gradients. The loop
    // took each step's dL/dq into the top layer's dL/dh_{t−1}.
    const dKeys = dInputs[1] ?? work('dKeys', SB, this.Hk);
    const scoreQ = this.scoreQ ?? this.queries;
    const dScoreQ = kind === 'concat' ? work('dScoreQ', TB, this.A) : undefined;
    const dScoreK = kind === 'dot' ? undefined : work('dScoreK', SB, kind === 'concat' ? this.A : this.Hq);
    // The scores' gradients and concat's dL/d(W_q q), which the loop made and kept.
    const dScore = work('dScore', TB, S);
    commands.push(copy(this.grad.buffer, g.dscore * F32, dScore.buffer, 0, TB * S * F32));
    if (dScoreQ) commands.push(copy(this.grad.buffer, g.dsq * F32, dScoreQ.buffer, 0, TB * this.A * F32));
    commands.push(
      ...recordAttendBackward(plan, {
        label: `${name}.attendBack`,
        T,
        B,
        S,
        Hk: this.Hk,
        Hq: this.Hq,
        W: kind === 'concat' ? this.A : this.Hq,
        kind: kind === 'concat' ? 'concat' : 'dot',
        lengths: plan.sourceLengths,
        keys: this.keys,
        scoreQ,
        scoreK: this.scoreK,
        q: this.queries,
        v: kind === 'concat' ? this.param(`${name}.v.weight`, [this.A]) : undefined,
        alpha: this.alpha,
        joined: dJoined,
        dJoined,
        dScore,
        dKeys,
        dScoreQ,
        dScoreK,
        dV: kind === 'concat' ? this.paramGrad(`${name}.v.weight`, [this.A]) : undefined,
        fromLoop: true,
      }),
    );
    if (kind === 'general') {
      const W = this.param(`${name}.weight`, [this.Hq, this.Hk]);
      commands.push(
        gemm(plan, `${name}.dKeysViaW`, SB, this.Hk, this.Hq, dScoreK!, W, dKeys, { beta: 1 }),
        gemm(plan, `${name}.dW`, this.Hq, this.Hk, SB, dScoreK!, this.keys, this.paramGrad(`${name}.weight`, [this.Hq, this.Hk]), { transA: true }),
      );
    } else if (kind === 'concat') {
      commands.push(
        gemm(plan, `${name}.dKeysViaWk`, SB, this.Hk, this.A, dScoreK!, this.param(`${name}.key.weight`, [this.A, this.Hk]), dKeys, { beta: 1 }),
        gemm(plan, `${name}.dWk`, this.A, this.Hk, SB, dScoreK!, this.keys, this.paramGrad(`${name}.key.weight`, [this.A, this.Hk]), { transA: true }),
        gemm(plan, `${name}.dWq`, this.A, this.Hq, TB, dScoreQ!, this.queries, this.paramGrad(`${name}.query.weight`, [this.A, this.Hq]), { transA: true }),
      );
    }
    // Their gate axis carries a GRU's 3 lanes or an RNN's 1 (GateLanes).
    const gateLanes = modeGateLanes(config.mode, 'columns');
    // Each stacked layer's weight gradients over all steps: its inputs and h_{t−1} against the gates' gradients.
    setup.layers.forEach((s, l) => {
      const I = s.inputSize;
      const tag = `${setup.name}.layer${l}`;
      const grad = (off: number, shape: number[]): GpuTensor => ({ ...plan.grads, offset: s.start + off * GATE_LANES, shape });
      const x: GpuTensor = { ...this.saved, offset: l === 0 ? sv.x0 : sv.x1 + (l - 1) * TB * this.Hq, shape: [TB, I] };
      const hPrev: GpuTensor = { ...this.saved, offset: sv.hPrev + l * TB * this.Hq, shape: [TB, this.Hq] };
      const dgx: GpuTensor = { ...this.grad, offset: g.dgx + l * TB * N, shape: [TB, N] };
      const dgh: GpuTensor = { ...this.grad, offset: g.dgh + l * TB * N, shape: [TB, N] };
      commands.push(
        gemm(plan, `${tag}.dW_ih`, I, N, TB, x, dgx, grad(s.offsets.wIh, [I, N]), { transA: true, gateLanes }),
        gemm(plan, `${tag}.dW_hh`, this.Hq, N, TB, hPrev, dgh, grad(s.offsets.wHh, [this.Hq, N]), { transA: true, gateLanes }),
      );
      if (config.bias) {
        const bIh = grad(s.offsets.bIh, [N]);
        const bHh = grad(s.offsets.bHh, [N]);
        commands.push(gemm(plan, `${tag}.db_hh`, 1, N, TB, plan.ones(TB), dgh, bHh, { gateLanes }));
        // Outside a GRU dg_x is dg_h (one buffer): db_ih is db_hh.
        if (config.mode === 'GRU') commands.push(gemm(plan, `${tag}.db_ih`, 1, N, TB, plan.ones(TB), dgx, bIh, { gateLanes }));
        else commands.push(...copyBiasGradient(plan, tag, bHh, bIh, N));
      }
    });
    // dL/d(initial state), in the state layout, for the bridge.
    const dInitial = dInputs[2];
    if (dInitial) {
      const layerState = this.layout.layerState;
      for (let l = 0; l < L; l++) {
        const to = (dInitial.offset + l * layerState) * F32;
        commands.push(copy(this.grad.buffer, (g.dh + l * B * this.Hq) * F32, dInitial.buffer, to, B * this.Hq * F32));
        if (config.mode === 'LSTM') commands.push(copy(this.grad.buffer, (g.dc + l * B * H) * F32, dInitial.buffer, to + B * this.Hq * F32, B * H * F32));
      }
    }
    return plan.count(setup.name, commands);
  }

  write(queue: GPUQueue, _batch: unknown, step: { seed: number; training: boolean }): void {
    this.op.set(queue, step.seed, step.training);
  }
}
