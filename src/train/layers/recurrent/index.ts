/**
 * nn.RNN / nn.LSTM / nn.GRU (every option: layers, directions, proj_size, bias, dropout between
 * layers, lengths) as a layer: a sequence (T·B, I) → the last layer's output (`<name>.output`,
 * (T·B, D·H_out)) and cat(h_n[−D:]), the last layer's final states of all directions (`<name>.last`,
 * (B, D·H_out)) — what a classifier head reads. Its initial state is the batch's h0 / c0 (or a carried
 * state, which the engine puts there). Parameters as the module's state_dict under `<name>.`.
 *
 * Initialisation: PyTorch's default U(±1/√H) for every tensor; or xavier / kaiming per gate block
 * with zero biases; optionally orthogonal gate blocks of W_hh and a forget-gate bias (LSTM).
 * The float64 reference is src/reference/recurrent-train.ts; the GPU records are gpu.ts.
 */
import { type RnnConfig, gateCount, numDirections, outputSize } from '../../../config.js';
import { parameterSpecs } from '../../../params.js';
import { type RecurrentCache, recurrentTrainBackward, recurrentTrainForward } from '../../../reference/recurrent-train.js';
import { PlanSizes } from '../../../gpu/state.js';
import { orthogonal } from './orthogonal.js';
import type { FlatSection, GpuLayer, InitDraws, ParamSpec, PlanContext, ReferenceContext, TrainLayer } from '../layer.js';
import { RecurrentGpu } from './gpu.js';
import { type RecurrentRole, sequenceOf } from './role.js';

export { type RecurrentRole, sequenceOf };
import { type RecurrentSection, recurrentSection } from './section.js';

/** The float64 forward's cache, and what its backward found for the trainer (dL/dh0, dL/dc0, gradient flow). */
export interface RecurrentReferenceCache {
  readonly module: RecurrentCache;
  gradients?: { h0: Float64Array; c0: Float64Array; flow: Float64Array[] };
}

export class RecurrentLayer implements TrainLayer<RecurrentReferenceCache> {
  readonly inputs: readonly string[];
  /** The last layer's output (T·B, D·H_out), cat(h_n[−D:]) (B, D·H_out), and the final state of every layer (joinStateValue). */
  readonly outputs: readonly string[];

  constructor(
    readonly name: string,
    readonly config: RnnConfig,
    input: string,
    readonly role: RecurrentRole = { sequence: 'batch', streamBase: 0 },
  ) {
    this.inputs = role.initial ? [input, role.initial] : [input];
    this.outputs = [`${name}.output`, `${name}.last`, `${name}.state`];
  }

  /** Output features per step, D·H_out. */
  get features(): number {
    return numDirections(this.config) * outputSize(this.config);
  }

  parameters(): ParamSpec[] {
    return parameterSpecs(this.config).map((p) => ({ name: `${this.name}.${p.name}`, shape: p.shape }));
  }

  initialise(draws: InitDraws): Record<string, Float64Array> {
    const rnn = this.config;
    const H = rnn.hidden_size;
    const G = gateCount(rnn.mode);
    const out: Record<string, Float64Array> = {};
    for (const spec of parameterSpecs(rnn)) {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const p = new Float64Array(size);
      const isBias = spec.shape.length === 1;
      if (draws.scheme === 'default' || isBias) {
        for (let i = 0; i < size; i++) p[i] = draws.scheme === 'default' ? draws.uniform(1 / Math.sqrt(H)) : 0;
      } else {
        // A weight (G·rows, cols), scheme per gate block: fan_in = cols, fan_out = rows of a block.
        const [rows, cols] = [spec.shape[0] / (spec.kind === 'weight_hr' ? 1 : G), spec.shape[1]];
        const bound = draws.scheme === 'xavier' ? Math.sqrt(6 / (cols + rows)) : Math.sqrt(6 / cols);
        for (let i = 0; i < size; i++) p[i] = draws.uniform(bound);
      }
      if (draws.orthogonal && spec.kind === 'weight_hh') {
        const cols = spec.shape[1];
        for (let g = 0; g < G; g++)
          p.set(
            orthogonal(H, cols, () => draws.gauss()),
            g * H * cols,
          );
      }
      if (draws.forgetBias !== undefined && rnn.mode === 'LSTM' && (spec.kind === 'bias_ih' || spec.kind === 'bias_hh')) {
        p.fill(spec.kind === 'bias_ih' ? draws.forgetBias : 0, H, 2 * H);
      }
      out[`${this.name}.${spec.name}`] = p;
    }
    return out;
  }

  section(start: number): RecurrentSection {
    return recurrentSection(this.name, this.config, start);
  }

  /** The module's own weights (no prefix) out of the model's parameters. */
  private own(params: Readonly<Record<string, Float64Array>>): Record<string, Float64Array> {
    const prefix = `${this.name}.`;
    return Object.fromEntries(Object.entries(params).flatMap(([k, v]) => (k.startsWith(prefix) ? [[k.slice(prefix.length), v]] : [])));
  }

  referenceForward(inputs: ReadonlyArray<ArrayLike<number>>, ctx: ReferenceContext) {
    const { B } = ctx.batch;
    const { T, lengths } = sequenceOf(this.role, ctx.batch);
    let { h0, c0 } = ctx.batch;
    if (this.role.initial) [h0, c0] = splitStateValue(this.config, B, inputs[1]);
    const module = recurrentTrainForward(
      this.config,
      this.own(ctx.params),
      { T, B, x: inputs[0], lengths, h0, c0 },
      { training: ctx.training, seed: ctx.seed, streamBase: this.role.streamBase },
    );
    return { outputs: [module.output, this.last(module.hN, B), joinStateValue(this.config, B, module.hN, module.cN)], cache: { module } };
  }

  /** cat(h_n[−D:]) (B, D·H_out) from h_n (L·D, B, H_out). */
  private last(hN: Float64Array, B: number): Float64Array {
    const D = numDirections(this.config);
    const Hout = outputSize(this.config);
    const F = D * Hout;
    const L = this.config.num_layers;
    const out = new Float64Array(B * F);
    for (let d = 0; d < D; d++)
      for (let b = 0; b < B; b++) out.set(hN.subarray((((L - 1) * D + d) * B + b) * Hout, (((L - 1) * D + d) * B + b + 1) * Hout), b * F + d * Hout);
    return out;
  }

  referenceBackward(
    cache: RecurrentReferenceCache,
    dOutputs: ReadonlyArray<Float64Array | undefined>,
    grads: Record<string, Float64Array>,
    ctx: ReferenceContext,
  ) {
    const { B } = ctx.batch;
    const D = numDirections(this.config);
    const Hout = outputSize(this.config);
    const F = D * Hout;
    const L = this.config.num_layers;
    let dhN: Float64Array | undefined;
    const dLast = dOutputs[1];
    if (dLast) {
      dhN = new Float64Array(L * D * B * Hout);
      for (let d = 0; d < D; d++)
        for (let b = 0; b < B; b++) dhN.set(dLast.subarray(b * F + d * Hout, b * F + (d + 1) * Hout), (((L - 1) * D + d) * B + b) * Hout);
    }
    // The final state's own gradient (a bridge's, into a decoder) adds to the last layer's.
    let dcN: Float64Array | undefined;
    const dState = dOutputs[2];
    if (dState) {
      const [dh, dc] = splitStateValue(this.config, B, dState);
      dhN ??= new Float64Array(dh.length);
      for (let i = 0; i < dh.length; i++) dhN[i] += dh[i];
      dcN = dc;
    }
    const g = recurrentTrainBackward(this.config, this.own(ctx.params), cache.module, dOutputs[0], dhN, dcN);
    for (const [k, v] of Object.entries(g.grads)) {
      const into = grads[`${this.name}.${k}`];
      for (let i = 0; i < v.length; i++) into[i] += v[i];
    }
    cache.gradients = { h0: g.h0, c0: g.c0, flow: g.flow };
    if (!this.role.initial) return [g.dInput];
    return [g.dInput, joinStateValue(this.config, B, g.h0, g.c0)];
  }

  gpu(plan: PlanContext, section: FlatSection): RecurrentGpu & GpuLayer {
    return new RecurrentGpu(plan, this.name, this.config, section as RecurrentSection, this.role);
  }
}

export type { RecurrentLayerSection, RecurrentSection } from './section.js';

/**
 * A recurrent module's whole state as one value, in the layout the GPU keeps it (gpu/state.ts): per
 * layer, h (D, B, H_out) then, for LSTM, c (D, B, H).
 */
export function joinStateValue(config: RnnConfig, B: number, h: ArrayLike<number>, c: ArrayLike<number> | undefined): Float64Array {
  const s = new PlanSizes(config, 1, B);
  const [hPer, cPer] = [s.hBytes / 4, s.cBytes / 4];
  const out = new Float64Array(config.num_layers * s.layerState);
  for (let l = 0; l < config.num_layers; l++) {
    for (let k = 0; k < hPer; k++) out[l * s.layerState + k] = h[l * hPer + k];
    if (c) for (let k = 0; k < cPer; k++) out[l * s.layerState + hPer + k] = c[l * cPer + k];
  }
  return out;
}

/** h (L·D, B, H_out) and c (L·D, B, H; LSTM) out of a state value (joinStateValue's layout). */
export function splitStateValue(config: RnnConfig, B: number, state: ArrayLike<number>): [Float64Array, Float64Array | undefined] {
  const s = new PlanSizes(config, 1, B);
  const [hPer, cPer] = [s.hBytes / 4, s.cBytes / 4];
  const h = new Float64Array(config.num_layers * hPer);
  const c = cPer ? new Float64Array(config.num_layers * cPer) : undefined;
  for (let l = 0; l < config.num_layers; l++) {
    for (let k = 0; k < hPer; k++) h[l * hPer + k] = state[l * s.layerState + k];
    if (c) for (let k = 0; k < cPer; k++) c[l * cPer + k] = state[l * s.layerState + hPer + k];
  }
  return [h, c];
}
