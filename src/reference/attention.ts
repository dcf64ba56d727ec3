/**
 * The float64 reference of attention, one query over the keys of one batch row, written from the
 * equations (Luong et al. 2015, Bahdanau et al. 2015):
 *   score(q, k_s)  "dot"      qᵀ k_s                                   (H_q = H_k)
 *                  "general"  qᵀ W k_s                 W (H_q, H_k)
 *                  "concat"   vᵀ tanh(W_q q + W_k k_s)  W_q (A, H_q), W_k (A, H_k), v (1, A)
 *   α = softmax over s < len of the scores (positions at or past the row's length take no part),
 *   context = Σ_s α_s k_s.
 * And the way back from dL/d(context): dL/dq, dL/dk_s and the weights' gradients. Weights are
 * PyTorch's nn.Linear layouts (rows = outputs).
 */

export type ScoreKind = 'dot' | 'general' | 'concat';

export interface AttentionWeights {
  /** general: W (H_q, H_k). */
  readonly W?: ArrayLike<number>;
  /** concat: W_q (A, H_q), W_k (A, H_k), v (A). */
  readonly Wq?: ArrayLike<number>;
  readonly Wk?: ArrayLike<number>;
  readonly v?: ArrayLike<number>;
}

export interface AttentionGradients {
  W?: Float64Array;
  Wq?: Float64Array;
  Wk?: Float64Array;
  v?: Float64Array;
}

export interface AttentionShape {
  readonly kind: ScoreKind;
  /** Query and key widths, and concat's hidden width A. */
  readonly Hq: number;
  readonly Hk: number;
  readonly A: number;
}

/** The keys of one batch row: key s is `keys[(s·stride + offset) …]` (H_k values), s < len. */
export interface Keys {
  readonly data: ArrayLike<number>;
  /** Float index of key s's first value: s·stride + offset. */
  readonly stride: number;
  readonly offset: number;
  readonly len: number;
}

export interface AttendCache {
  /** α over the row's len positions. */
  readonly alpha: Float64Array;
  /** concat: tanh(W_q q + W_k k_s) (len, A). */
  readonly u?: Float64Array;
}

const key = (k: Keys, s: number, i: number) => k.data[s * k.stride + k.offset + i];

/** α (len) and the context (H_k) of query q. */
export function attend(
  shape: AttentionShape,
  w: AttentionWeights,
  q: ArrayLike<number>,
  keys: Keys,
): { alpha: Float64Array; context: Float64Array; cache: AttendCache } {
  const { kind, Hq, Hk, A } = shape;
  const len = keys.len;
  const scores = new Float64Array(len);
  let u: Float64Array | undefined;
  if (kind === 'dot') {
    for (let s = 0; s < len; s++) for (let i = 0; i < Hk; i++) scores[s] += q[i] * key(keys, s, i);
  } else if (kind === 'general') {
    // qᵀ W k = (Wᵀ q)ᵀ k
    const wq = new Float64Array(Hk);
    for (let i = 0; i < Hq; i++) for (let j = 0; j < Hk; j++) wq[j] += q[i] * w.W![i * Hk + j];
    for (let s = 0; s < len; s++) for (let j = 0; j < Hk; j++) scores[s] += wq[j] * key(keys, s, j);
  } else {
    const qa = new Float64Array(A);
    for (let a = 0; a < A; a++) for (let i = 0; i < Hq; i++) qa[a] += w.Wq![a * Hq + i] * q[i];
    u = new Float64Array(len * A);
    for (let s = 0; s < len; s++) {
      for (let a = 0; a < A; a++) {
        let acc = qa[a];
        for (let j = 0; j < Hk; j++) acc += w.Wk![a * Hk + j] * key(keys, s, j);
        u[s * A + a] = Math.tanh(acc);
        scores[s] += w.v![a] * u[s * A + a];
      }
    }
  }
  let max = Number.NEGATIVE_INFINITY;
  for (let s = 0; s < len; s++) max = Math.max(max, scores[s]);
  const alpha = new Float64Array(len);
  let z = 0;
  for (let s = 0; s < len; s++) z += alpha[s] = Math.exp(scores[s] - max);
  for (let s = 0; s < len; s++) alpha[s] /= z;
  const context = new Float64Array(Hk);
  for (let s = 0; s < len; s++) for (let j = 0; j < Hk; j++) context[j] += alpha[s] * key(keys, s, j);
  return { alpha, context, cache: { alpha, u } };
}

/**
 * From dL/d(context): adds dL/dk_s into `dKeys` (laid out as the keys are), the weights' gradients
 * into `grads`, and returns dL/dq.
 */
export function attendBackward(
  shape: AttentionShape,
  w: AttentionWeights,
  q: ArrayLike<number>,
  keys: Keys,
  cache: AttendCache,
  dContext: ArrayLike<number>,
  dKeys: Float64Array,
  grads: AttentionGradients,
): Float64Array {
  const { kind, Hq, Hk, A } = shape;
  const { alpha } = cache;
  const len = keys.len;
  const at = (s: number, i: number) => s * keys.stride + keys.offset + i;
  // context = Σ α_s k_s: dα_s = dcontextᵀ k_s, dk_s += α_s dcontext.
  const dAlpha = new Float64Array(len);
  for (let s = 0; s < len; s++) {
    for (let j = 0; j < Hk; j++) {
      dAlpha[s] += dContext[j] * key(keys, s, j);
      dKeys[at(s, j)] += alpha[s] * dContext[j];
    }
  }
  // softmax: dscore_s = α_s (dα_s − Σ α dα).
  let dot = 0;
  for (let s = 0; s < len; s++) dot += alpha[s] * dAlpha[s];
  const dScore = Float64Array.from(alpha, (a, s) => a * (dAlpha[s] - dot));
  const dq = new Float64Array(Hq);
  if (kind === 'dot') {
    for (let s = 0; s < len; s++) {
      for (let i = 0; i < Hk; i++) {
        dq[i] += dScore[s] * key(keys, s, i);
        dKeys[at(s, i)] += dScore[s] * q[i];
      }
    }
  } else if (kind === 'general') {
    for (let s = 0; s < len; s++) {
      for (let i = 0; i < Hq; i++) {
        for (let j = 0; j < Hk; j++) {
          const W = w.W![i * Hk + j];
          dq[i] += dScore[s] * W * key(keys, s, j);
          dKeys[at(s, j)] += dScore[s] * W * q[i];
          grads.W![i * Hk + j] += dScore[s] * q[i] * key(keys, s, j);
        }
      }
    }
  } else {
    const u = cache.u!;
    for (let s = 0; s < len; s++) {
      for (let a = 0; a < A; a++) {
        const ua = u[s * A + a];
        grads.v![a] += dScore[s] * ua;
        const du = dScore[s] * w.v![a] * (1 - ua * ua);
        if (du === 0) continue;
        for (let i = 0; i < Hq; i++) {
          grads.Wq![a * Hq + i] += du * q[i];
          dq[i] += du * w.Wq![a * Hq + i];
        }
        for (let j = 0; j < Hk; j++) {
          grads.Wk![a * Hk + j] += du * key(keys, s, j);
          dKeys[at(s, j)] += du * w.Wk![a * Hk + j];
        }
      }
    }
  }
  return dq;
}
