/** Orthogonal initialisation's matrices (init.ts's `orthogonal` option, the recurrent layer's W_hh blocks). */

/** A rows × cols matrix with orthonormal rows (rows ≤ cols) or columns, by Gram–Schmidt on a Gaussian one. */
export function orthogonal(rows: number, cols: number, gauss: () => number): Float64Array {
  const tall = rows >= cols;
  const [n, m] = tall ? [cols, rows] : [rows, cols]; // n vectors of length m
  const v = Array.from({ length: n }, () => Float64Array.from({ length: m }, gauss));
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) {
      let dot = 0;
      for (let e = 0; e < m; e++) dot += v[i][e] * v[k][e];
      for (let e = 0; e < m; e++) v[i][e] -= dot * v[k][e];
    }
    let norm = 0;
    for (let e = 0; e < m; e++) norm += v[i][e] ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let e = 0; e < m; e++) v[i][e] /= norm;
  }
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < n; i++) for (let e = 0; e < m; e++) out[tall ? e * cols + i : i * cols + e] = v[i][e];
  return out;
}
