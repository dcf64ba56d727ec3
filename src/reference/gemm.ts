/**
 * The float64 reference of the GPU GEMM (src/gpu/ops/gemm.ts), straight from its definition:
 *   C[z] = α · op(A[z]) · op(B[z]) + β · C[z] + bias[z]   (bias added to every row)
 * with op(A) M×K (A stored (M, K), or (K, M) when transA), op(B) K×N (B stored (K, N), or (N, K)
 * when transB); operands are flat arrays, each batch z starting `stride` elements after the last.
 */
export interface GemmProblem {
  M: number;
  N: number;
  K: number;
  batch: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  a: ArrayLike<number>;
  aStride: number;
  b: ArrayLike<number>;
  bStride: number;
  bias?: ArrayLike<number>;
  biasStride: number;
  /** C before the product (read when beta ≠ 0). */
  c: ArrayLike<number>;
  cStride: number;
}

/** The result, each batch's (M, N) at z · cStride of a copy of `c`. */
export function referenceGemm(p: GemmProblem): Float64Array {
  const out = Float64Array.from(p.c);
  for (let z = 0; z < p.batch; z++) {
    for (let m = 0; m < p.M; m++) {
      for (let n = 0; n < p.N; n++) {
        let sum = 0;
        for (let k = 0; k < p.K; k++) {
          const a = p.a[z * p.aStride + (p.transA ? k * p.M + m : m * p.K + k)];
          const b = p.b[z * p.bStride + (p.transB ? n * p.K + k : k * p.N + n)];
          sum += a * b;
        }
        const i = z * p.cStride + m * p.N + n;
        out[i] = p.alpha * sum + (p.beta !== 0 ? p.beta * p.c[i] : 0) + (p.bias ? p.bias[z * p.biasStride + n] : 0);
      }
    }
  }
  return out;
}
