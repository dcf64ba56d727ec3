/**
 * Attention after the decoder (Luong's placement) as a layer: from the decoder's outputs h_t (the
 * queries, (T·B, H_d)) and the encoder's outputs (the keys, (S·B, H_e)), each row masked past its
 * source length, the context c_t = Σ_s α_s k_s and h̃_t = tanh(combine([c_t; h_t])) (T·B, C), which the
 * head reads. Parameters: the score's (`attention.*`, score.ts) and `combine.weight` (C, H_e + H_d),
 * `combine.bias` (C). The attention weights α are kept (T, B, S) for looking at. The GPU records are
 * gpu.ts.
 */
import { type AttendCache, type AttentionShape, attend, attendBackward } from '../../../reference/attention.js';
import type { FlatSection, GpuLayer, InitDraws, ParamSpec, PlanContext, ReferenceContext, TrainLayer } from '../layer.js';
import { plainSection } from '../section.js';
import { attentionGpu } from './gpu.js';
import { initialiseScore, linearWeight, scoreGradients, scoreParameters, scoreWeights } from './score.js';

export interface AttentionCache {
  readonly queries: ArrayLike<number>;
  readonly keys: ArrayLike<number>;
  readonly attends: AttendCache[];
  /** [c_t; h_t] (T·B, H_e + H_d) and h̃ (T·B, C). */
  readonly joined: Float64Array;
  readonly out: Float64Array;
  /** α (T, B, S), zeros past each row's length. */
  readonly alpha: Float64Array;
}

export class AttentionLayer implements TrainLayer<AttentionCache> {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];

  constructor(
    readonly name: string,
    readonly shape: AttentionShape,
    /** The combine layer's width C and its parameters' prefix. */
    readonly combine: { readonly name: string; readonly size: number },
    queries: string,
    keys: string,
  ) {
    this.inputs = [queries, keys];
    this.outputs = [`${name}.output`];
  }

  parameters(): ParamSpec[] {
    const { Hq, Hk } = this.shape;
    const C = this.combine.size;
    return [
      ...scoreParameters(this.name, this.shape),
      { name: `${this.combine.name}.weight`, shape: [C, Hk + Hq] },
      { name: `${this.combine.name}.bias`, shape: [C] },
    ];
  }

  initialise(draws: InitDraws): Record<string, Float64Array> {
    const { Hq, Hk } = this.shape;
    const C = this.combine.size;
    const fanIn = Hk + Hq;
    return {
      ...initialiseScore(this.name, this.shape, draws),
      [`${this.combine.name}.weight`]: linearWeight(draws, C, fanIn),
      // nn.Linear's bias: U(±1/√fan_in); the other schemes start it at zero.
      [`${this.combine.name}.bias`]: Float64Array.from({ length: C }, () => (draws.scheme === 'default' ? draws.uniform(1 / Math.sqrt(fanIn)) : 0)),
    };
  }

  section(start: number): FlatSection {
    return plainSection(start, this.parameters());
  }

  referenceForward(inputs: ReadonlyArray<ArrayLike<number>>, ctx: ReferenceContext) {
    const { T, B, S } = ctx.batch;
    const { Hq, Hk } = this.shape;
    const C = this.combine.size;
    const [queries, keys] = inputs;
    const w = scoreWeights(this.name, ctx.params);
    const Wc = ctx.params[`${this.combine.name}.weight`];
    const bc = ctx.params[`${this.combine.name}.bias`];
    const J = Hk + Hq;
    const joined = new Float64Array(T * B * J);
    const out = new Float64Array(T * B * C);
    const alpha = new Float64Array(T * B * S!);
    const attends: AttendCache[] = new Array(T * B);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const r = t * B + b;
        const q = Array.prototype.slice.call(queries, r * Hq, (r + 1) * Hq) as number[];
        const len = ctx.batch.sourceLengths ? ctx.batch.sourceLengths[b] : S!;
        const a = attend(this.shape, w, q, { data: keys, stride: B * Hk, offset: b * Hk, len });
        attends[r] = a.cache;
        alpha.set(a.alpha, r * S!);
        joined.set(a.context, r * J);
        joined.set(q, r * J + Hk);
        for (let c = 0; c < C; c++) {
          let acc = bc[c];
          for (let k = 0; k < J; k++) acc += Wc[c * J + k] * joined[r * J + k];
          out[r * C + c] = Math.tanh(acc);
        }
      }
    }
    return { outputs: [out], cache: { queries, keys, attends, joined, out, alpha } };
  }

  referenceBackward(cache: AttentionCache, dOutputs: ReadonlyArray<Float64Array | undefined>, grads: Record<string, Float64Array>, ctx: ReferenceContext) {
    const { T, B, S } = ctx.batch;
    const { Hq, Hk } = this.shape;
    const C = this.combine.size;
    const J = Hk + Hq;
    const dOut = dOutputs[0];
    const dQueries = new Float64Array(T * B * Hq);
    const dKeys = new Float64Array(S! * B * Hk);
    if (!dOut) return [dQueries, dKeys];
    const w = scoreWeights(this.name, ctx.params);
    const g = scoreGradients(this.name, grads);
    const Wc = ctx.params[`${this.combine.name}.weight`];
    const gWc = grads[`${this.combine.name}.weight`];
    const gbc = grads[`${this.combine.name}.bias`];
    for (let r = 0; r < T * B; r++) {
      const b = r % B;
      const dJoined = new Float64Array(J);
      for (let c = 0; c < C; c++) {
        const o = cache.out[r * C + c];
        const dz = dOut[r * C + c] * (1 - o * o);
        if (dz === 0) continue;
        gbc[c] += dz;
        for (let k = 0; k < J; k++) {
          gWc[c * J + k] += dz * cache.joined[r * J + k];
          dJoined[k] += dz * Wc[c * J + k];
        }
      }
      const q = Array.prototype.slice.call(cache.queries, r * Hq, (r + 1) * Hq) as number[];
      const len = ctx.batch.sourceLengths ? ctx.batch.sourceLengths[b] : S!;
      const dq = attendBackward(
        this.shape,
        w,
        q,
        { data: cache.keys, stride: B * Hk, offset: b * Hk, len },
        cache.attends[r],
        dJoined.subarray(0, Hk),
        dKeys,
        g,
      );
      for (let k = 0; k < Hq; k++) dQueries[r * Hq + k] = dq[k] + dJoined[Hk + k];
    }
    return [dQueries, dKeys];
  }

  gpu(plan: PlanContext, section: FlatSection): GpuLayer {
    return attentionGpu(
      plan,
      this.shape,
      { name: this.name, combine: this.combine.name, C: this.combine.size },
      (section as ReturnType<typeof plainSection>).offsets,
    );
  }
}
