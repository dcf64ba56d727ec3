/**
 * The attention score's parameters (src/reference/attention.ts has the equations), named as PyTorch
 * modules under the layer's prefix: "general" `attention.weight` (H_q, H_k) — nn.Linear(H_k, H_q,
 * bias=False) applied to the key —; "concat" `attention.query.weight` (A, H_q), `attention.key.weight`
 * (A, H_k), `attention.v.weight` (1, A); "dot" none. Initialised as nn.Linear does (U(±1/√fan_in)), or
 * by the xavier / kaiming schemes.
 */
import type { AttentionGradients, AttentionShape, AttentionWeights, ScoreKind } from '../../../reference/attention.js';
import type { InitDraws, ParamSpec } from '../layer.js';

export function scoreParameters(prefix: string, s: AttentionShape): ParamSpec[] {
  if (s.kind === 'general') return [{ name: `${prefix}.weight`, shape: [s.Hq, s.Hk] }];
  if (s.kind === 'concat') {
    return [
      { name: `${prefix}.query.weight`, shape: [s.A, s.Hq] },
      { name: `${prefix}.key.weight`, shape: [s.A, s.Hk] },
      { name: `${prefix}.v.weight`, shape: [1, s.A] },
    ];
  }
  return [];
}

/** A bias-free linear layer's weight (out, in), drawn as `draws.scheme` says. */
export function linearWeight(draws: InitDraws, out: number, fanIn: number): Float64Array {
  const bound = draws.scheme === 'default' ? 1 / Math.sqrt(fanIn) : draws.scheme === 'xavier' ? Math.sqrt(6 / (fanIn + out)) : Math.sqrt(6 / fanIn);
  return Float64Array.from({ length: out * fanIn }, () => draws.uniform(bound));
}

export function initialiseScore(prefix: string, s: AttentionShape, draws: InitDraws): Record<string, Float64Array> {
  return Object.fromEntries(scoreParameters(prefix, s).map((p) => [p.name, linearWeight(draws, p.shape[0], p.shape[1])]));
}

export function scoreWeights(prefix: string, params: Readonly<Record<string, Float64Array>>): AttentionWeights {
  return { W: params[`${prefix}.weight`], Wq: params[`${prefix}.query.weight`], Wk: params[`${prefix}.key.weight`], v: params[`${prefix}.v.weight`] };
}

/** Views of `grads` where the score's gradients go (the same names). */
export function scoreGradients(prefix: string, grads: Record<string, Float64Array>): AttentionGradients {
  return { W: grads[`${prefix}.weight`], Wq: grads[`${prefix}.query.weight`], Wk: grads[`${prefix}.key.weight`], v: grads[`${prefix}.v.weight`] };
}

export function attentionShape(kind: ScoreKind, Hq: number, Hk: number, A = 0): AttentionShape {
  return { kind, Hq, Hk, A };
}
