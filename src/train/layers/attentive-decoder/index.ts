/**
 * A decoder with attention inside its recurrence (Bahdanau's placement) as a layer: from the embedded
 * targets (T·B, E), the encoder's outputs (the keys, (S·B, H_e)) and, with a bridge, an initial state,
 * the top layer's h_t (T·B, H_d) — each step attending from the top layer's h_{t−1} and reading
 * [e_t; c_t] (src/reference/attentive-decoder.ts). Parameters: the decoder's (`decoder.*`, an nn.RNN /
 * nn.LSTM / nn.GRU with input_size E + H_e) then the score's (`attention.*`).
 */
import { type RnnConfig, numDirections, outputSize } from '../../../config.js';
import type { AttentionShape } from '../../../reference/attention.js';
import { type AttentiveCache, attentiveDecoderBackward, attentiveDecoderForward } from '../../../reference/attentive-decoder.js';
import { scoreGradients, initialiseScore, scoreParameters, scoreWeights } from '../attention/score.js';
import type { FlatSection, GpuLayer, InitDraws, ParamSpec, PlanContext, ReferenceContext, TrainLayer } from '../layer.js';
import { RecurrentLayer, joinStateValue, splitStateValue } from '../recurrent/index.js';
import type { RecurrentSection } from '../recurrent/section.js';
import { recurrentSection } from '../recurrent/section.js';
import { plainSection } from '../section.js';
import { AttentiveDecoderGpu } from './gpu.js';

export class AttentiveDecoderLayer implements TrainLayer<AttentiveCache> {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** The decoder as a recurrent module, for its parameters and their initialisation. */
  private readonly stack: RecurrentLayer;

  constructor(
    readonly name: string,
    readonly config: RnnConfig,
    readonly attention: { readonly name: string; readonly shape: AttentionShape },
    embedded: string,
    keys: string,
    initial: string | undefined,
    readonly streamBase: number,
  ) {
    this.stack = new RecurrentLayer(name, config, embedded, { sequence: 'target', initial, streamBase });
    this.inputs = initial ? [embedded, keys, initial] : [embedded, keys];
    this.outputs = [`${name}.output`];
  }

  parameters(): ParamSpec[] {
    return [...this.stack.parameters(), ...scoreParameters(this.attention.name, this.attention.shape)];
  }

  initialise(draws: InitDraws): Record<string, Float64Array> {
    return { ...this.stack.initialise(draws), ...initialiseScore(this.attention.name, this.attention.shape, draws) };
  }

  /** The decoder's packed gate-interleaved weights (the recurrent layer's section), then the score's. */
  section(start: number): FlatSection & { recurrent: RecurrentSection; score: FlatSection & { offsets: Record<string, number> } } {
    const recurrent = recurrentSection(this.name, this.config, start);
    const score = plainSection(start + recurrent.size, scoreParameters(this.attention.name, this.attention.shape));
    return {
      start,
      size: recurrent.size + score.size,
      recurrent,
      score,
      pack(params, flat) {
        recurrent.pack(params, flat);
        score.pack(params, flat);
      },
      unpack: (flat) => ({ ...recurrent.unpack(flat), ...score.unpack(flat) }),
    };
  }

  private own(params: Readonly<Record<string, Float64Array>>): Record<string, Float64Array> {
    const prefix = `${this.name}.`;
    return Object.fromEntries(Object.entries(params).flatMap(([k, v]) => (k.startsWith(prefix) ? [[k.slice(prefix.length), v]] : [])));
  }

  referenceForward(inputs: ReadonlyArray<ArrayLike<number>>, ctx: ReferenceContext) {
    const { T, B, S } = ctx.batch;
    const [h0, c0] = inputs[2] ? splitStateValue(this.config, B, inputs[2]) : [undefined, undefined];
    const cache = attentiveDecoderForward(
      this.config,
      this.own(ctx.params),
      { shape: this.attention.shape, weights: scoreWeights(this.attention.name, ctx.params) },
      { T, B, e: inputs[0], keys: inputs[1], S: S!, lengths: ctx.batch.sourceLengths ?? new Int32Array(B).fill(S!), h0, c0 },
      { training: ctx.training, seed: ctx.seed, streamBase: this.streamBase },
    );
    return { outputs: [cache.output], cache };
  }

  referenceBackward(cache: AttentiveCache, dOutputs: ReadonlyArray<Float64Array | undefined>, grads: Record<string, Float64Array>, ctx: ReferenceContext) {
    const dOut = dOutputs[0] ?? new Float64Array(cache.output.length);
    const r = attentiveDecoderBackward(
      this.config,
      this.own(ctx.params),
      { shape: this.attention.shape, weights: scoreWeights(this.attention.name, ctx.params) },
      cache,
      dOut,
      scoreGradients(this.attention.name, grads),
    );
    for (const [k, v] of Object.entries(r.grads)) {
      const into = grads[`${this.name}.${k}`];
      for (let i = 0; i < v.length; i++) into[i] += v[i];
    }
    const result: Array<Float64Array | undefined> = [r.dE, r.dKeys];
    if (this.inputs.length > 2) {
      result.push(joinStateValue(this.config, ctx.batch.B, r.h0, this.config.mode === 'LSTM' ? r.c0 : undefined));
    }
    return result;
  }

  /** The decoder's output features, H_out. */
  get features(): number {
    return numDirections(this.config) * outputSize(this.config);
  }

  gpu(plan: PlanContext, section: FlatSection): GpuLayer {
    const s = section as ReturnType<AttentiveDecoderLayer['section']>;
    return new AttentiveDecoderGpu(plan, {
      name: this.name,
      config: this.config,
      attention: this.attention,
      layers: s.recurrent.layers,
      scoreOffsets: s.score.offsets,
      streamBase: this.streamBase,
      hasInitial: this.inputs.length > 2,
    });
  }
}
