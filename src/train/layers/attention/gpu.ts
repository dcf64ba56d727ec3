/**
 * Attention after the decoder on the GPU, recorded once per batch shape (T, B, S):
 *   forward   the score's operands as GEMMs ("general": keys·Wᵀ; "concat": q·W_qᵀ and keys·W_kᵀ; "dot":
 *             the queries and keys themselves), the attention op (gpu/ops/attention.ts: α and
 *             [context | q] per query row), the combine layer as a GEMM with its bias, tanh in place;
 *   backward  tanh's derivative (in place on dL/dh̃, which nothing else reads), the combine layer's
 *             gradients and dL/d[context | q] as GEMMs, the attention op's way back (dL/dq and dL/dkeys
 *             with the score's share where the score reads them; the operands' and v's gradients), and
 *             the way back through the operands' GEMMs: their weights' gradients, and their share of
 *             dL/dq and dL/dkeys added in (beta = 1).
 * The float64 counterpart is index.ts's referenceForward / referenceBackward.
 */
import { recordAttend, recordAttendBackward } from '../../../gpu/ops/attention.js';
import type { GpuTensor } from '../../../gpu/gpu-tensor.js';
import { type GateLanes, recordGemm } from '../../../gpu/ops/gemm.js';
import { recordTanh, recordTanhBackward } from '../../../gpu/ops/tanh.js';
import { type Command, clear } from '../../../gpu/program.js';
import type { AttentionShape } from '../../../reference/attention.js';
import type { GpuLayer, PlanContext } from '../layer.js';

export interface AttentionGpuNames {
  /** The layer's name (the score's parameters' prefix) and the combine layer's. */
  readonly name: string;
  readonly combine: string;
  readonly C: number;
}

/** c ← a·b (op(a) (M, K), op(b) (K, N)), beta = 1 adds into c; one matrix each (no batch). */
export function gemm(
  plan: PlanContext,
  label: string,
  M: number,
  N: number,
  K: number,
  a: GpuTensor,
  b: GpuTensor,
  c: GpuTensor,
  o: { transA?: boolean; transB?: boolean; beta?: number; bias?: GpuTensor; gateLanes?: GateLanes } = {},
): Command {
  return recordGemm(plan, { label, M, N, K, batch: 1, ...o, a, aBatchStride: 0, b, bBatchStride: 0, c, cBatchStride: 0, biasBatchStride: 0, format: 'f32' });
}

export function attentionGpu(
  plan: PlanContext,
  shape: AttentionShape,
  names: AttentionGpuNames,
  offsets: Readonly<Record<string, number>>,
): GpuLayer & { alpha?: GpuTensor } {
  const { T, B, S } = plan;
  const { kind, Hq, Hk, A } = shape;
  const { name, C } = names;
  const TB = T * B;
  const SB = S * B;
  const J = Hk + Hq;
  const W = kind === 'concat' ? A : Hq; // the score operands' width
  const param = (p: string, dims: number[]): GpuTensor => ({ ...plan.params, offset: offsets[p], shape: dims });
  const grad = (p: string, dims: number[]): GpuTensor => ({ ...plan.grads, offset: offsets[p], shape: dims });
  const Wc = param(`${names.combine}.weight`, [C, J]);
  const bc = param(`${names.combine}.bias`, [C]);
  const activation = (what: string, rows: number, cols: number) => plan.tensor(`${name}.${what}`, rows * cols, [rows, cols], 'activation');
  const work = (what: string, rows: number, cols: number) => plan.tensor(`${name}.${what}`, rows * cols, [rows, cols], 'work');
  // What the forward makes and the backward reads.
  let q: GpuTensor;
  let keys: GpuTensor;
  let scoreQ: GpuTensor;
  let scoreK: GpuTensor;
  let joined: GpuTensor;
  let out: GpuTensor;
  const alpha = activation('alpha', TB, S);
  const v = kind === 'concat' ? param(`${name}.v.weight`, [A]) : undefined;
  const call = () => ({
    label: `${name}.attend`,
    T,
    B,
    S,
    Hk,
    Hq,
    W,
    kind: kind === 'concat' ? ('concat' as const) : ('dot' as const),
    lengths: plan.sourceLengths,
    keys,
    scoreQ,
    scoreK,
    q,
    v,
    alpha,
    joined,
  });
  const layer: GpuLayer & { alpha?: GpuTensor } = {
    alpha,
    forward(inputs) {
      [q, keys] = inputs;
      const commands: Command[] = [];
      scoreQ = q;
      scoreK = keys;
      if (kind === 'general') {
        scoreK = activation('scoreK', SB, Hq);
        commands.push(gemm(plan, `${name}.scoreK`, SB, Hq, Hk, keys, param(`${name}.weight`, [Hq, Hk]), scoreK, { transB: true }));
      } else if (kind === 'concat') {
        scoreQ = activation('scoreQ', TB, A);
        scoreK = activation('scoreK', SB, A);
        commands.push(
          gemm(plan, `${name}.scoreQ`, TB, A, Hq, q, param(`${name}.query.weight`, [A, Hq]), scoreQ, { transB: true }),
          gemm(plan, `${name}.scoreK`, SB, A, Hk, keys, param(`${name}.key.weight`, [A, Hk]), scoreK, { transB: true }),
        );
      }
      joined = activation('joined', TB, J);
      out = activation('output', TB, C);
      commands.push(
        ...recordAttend(plan, call()),
        gemm(plan, `${names.combine}.forward`, TB, C, J, joined, Wc, out, { transB: true, bias: bc }),
        recordTanh(plan, `${name}.tanh`, out, TB * C),
      );
      return { outputs: [out], commands };
    },
    backward(dOutputs, dInputs) {
      const dQuery = dInputs[0] ?? work('dQuery', TB, Hq);
      const dKeys = dInputs[1] ?? work('dKeys', SB, Hk);
      const dz = dOutputs[0];
      if (!dz) return [clear(dQuery.buffer, dQuery.offset * 4, TB * Hq * 4), clear(dKeys.buffer, dKeys.offset * 4, SB * Hk * 4)];
      const dJoined = work('dJoined', TB, J);
      const commands: Command[] = [
        recordTanhBackward(plan, `${name}.tanhBack`, out, dz, TB * C),
        gemm(plan, `${names.combine}.dW`, C, J, TB, dz, joined, grad(`${names.combine}.weight`, [C, J]), { transA: true }),
        gemm(plan, `${names.combine}.db`, 1, C, TB, plan.ones(TB), dz, grad(`${names.combine}.bias`, [C])),
        gemm(plan, `${names.combine}.dX`, TB, J, C, dz, Wc, dJoined),
      ];
      const dScoreQ = kind === 'concat' ? work('dScoreQ', TB, A) : undefined;
      const dScoreK = kind === 'dot' ? undefined : work('dScoreK', SB, W);
      commands.push(
        ...recordAttendBackward(plan, {
          ...call(),
          label: `${name}.attendBack`,
          dJoined,
          dScore: work('dScore', TB, S),
          dQuery,
          dKeys,
          dScoreQ,
          dScoreK,
          dV: kind === 'concat' ? grad(`${name}.v.weight`, [A]) : undefined,
        }),
      );
      if (kind === 'general') {
        // score_k = keys·Wᵀ: dkeys += dscore_k·W, dW = dscore_kᵀ·keys.
        const Wg = param(`${name}.weight`, [Hq, Hk]);
        commands.push(
          gemm(plan, `${name}.dKeysViaW`, SB, Hk, Hq, dScoreK!, Wg, dKeys, { beta: 1 }),
          gemm(plan, `${name}.dW`, Hq, Hk, SB, dScoreK!, keys, grad(`${name}.weight`, [Hq, Hk]), { transA: true }),
        );
      } else if (kind === 'concat') {
        commands.push(
          gemm(plan, `${name}.dQueryViaWq`, TB, Hq, A, dScoreQ!, param(`${name}.query.weight`, [A, Hq]), dQuery, { beta: 1 }),
          gemm(plan, `${name}.dKeysViaWk`, SB, Hk, A, dScoreK!, param(`${name}.key.weight`, [A, Hk]), dKeys, { beta: 1 }),
          gemm(plan, `${name}.dWq`, A, Hq, TB, dScoreQ!, q, grad(`${name}.query.weight`, [A, Hq]), { transA: true }),
          gemm(plan, `${name}.dWk`, A, Hk, SB, dScoreK!, keys, grad(`${name}.key.weight`, [A, Hk]), { transA: true }),
        );
      }
      return commands;
    },
  };
  return layer;
}
