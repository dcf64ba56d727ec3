// General matrix product, batched:   C[z] = α · op(A[z]) · op(B[z]) + β · C[z]  (+ bias[z] on every row)
//
//   op(A) is M×K: A is stored (M, K) row-major, or (K, M) with TRANS_A;
//   op(B) is K×N: B is stored (K, N) row-major, or (N, K) with TRANS_B.
// Offsets and strides are in elements; z is the workgroup's z (batch). A and C are f32; B and the bias
// are read through the weight header (shaders/weights-*.wgsl) as `weight4`, four consecutive elements
// per load, so B may be a layer's packed weights in any precision (or f32 activations with the f32
// header). With a zero batch stride every z shares that operand (the input projection's A: both
// directions read the same layer input).
//
// Work split: invocation (column quad q = gid.x, block of ROWS rows m0 = ROWS·wid.y, batch z = wid.z)
// keeps ROWS vec4 accumulators — C[m0 + r, 4q … 4q + 3] — in registers. For each k it has four
// vec4s of B (row k of op(B) at the quad's four columns) used for all ROWS rows, and each row's A
// value: 4 B loads and ROWS A loads (2 with subgroups or TRANS_A) per 4·ROWS vec4 FMAs. No workgroup
// memory and no barriers: a software adapter runs it as straight-line code, a GPU coalesces the B
// loads across the workgroup's consecutive quads. Four k are taken per pass: with vec4 loads where the
// layout allows (the host sets A_VEC4 / B_VEC4), a transposed operand's 4×4 block turned with
// transpose(), else with scalar loads (a_rows8_any, b_quad_any); the k remainder goes one k at a time. Rows and columns past M and
// N compute on clamped indices and store nothing. Software adapters take the wide tile instead (below,
// `gemm_wide`); measured on SwiftShader: see src/gpu/ops/gemm.ts.

const ROWS = 8u;  // rows of C per invocation (GEMM_ROWS in src/gpu/ops/gemm.ts; test/structure/wgsl.test.ts checks)
// Entries `gemm_wide` (C four-aligned) and `gemm_wide_rows` (C stored element by element), for
// software adapters past 16 columns: WIDE_GROUPS groups of 8 rows (16 or 32 rows) × WIDE_QUADS column
// quads (8 or 16 columns) per invocation, a Tile per group and quad. Per four k it loads 4·WIDE_QUADS B
// vec4s and 8·WIDE_GROUPS A vec4s (2·WIDE_GROUPS with subgroups, then broadcast to the subgroup) for
// 32·WIDE_GROUPS·WIDE_QUADS vec4 FMAs: a software adapter's per-lane loads and broadcasts, not its
// arithmetic, set the pace, so the larger the tile the faster — each A value broadcast serves
// 4·WIDE_QUADS columns. Without A_VEC4 or B_VEC4 the same four k come from scalar loads (eight A loads
// per group, shared across the subgroup), not one k per pass: SwiftShader merges every loop-carried
// accumulator under the lanes' mask once per pass, so four k per pass pay that a quarter as often. The host picks the groups and quads per call (gemmWideRows,
// gemmWideQuads in src/gpu/ops/gemm.ts).
override WIDE_GROUPS: u32 = 2u;  // 2 or 4
override WIDE_QUADS: u32 = 2u;   // 2 or 4

override WORKGROUP_SIZE: u32 = 64u;
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override A_VEC4: bool = false;     // four k per A load: K % 4 == 0 (M % 4 == 0 with TRANS_A), offsets multiples of 4
override B_VEC4: bool = false;     // four elements per B load along its rows: N % 4 == 0 (K % 4 == 0 with TRANS_B), aligned
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false; // β ≠ 0: C is read
// α = 1 (every call but a scaled one): the accumulators start from the bias instead of zero, and the
// epilogue stores them as they are — no α·acc + bias per element. With K ≤ 16 that multiply-add is a
// fair share of a call (measured on SwiftShader in Chromium, interleaved: see src/gpu/ops/gemm.ts).
override ALPHA_ONE: bool = false;
// C stored transposed (entries `gemm` and `gemm_wide_rows`): for a C of few columns the host has the
// kernel compute Cᵀ = op(B)ᵀ · op(A)ᵀ — its rows are C's columns, its columns C's rows, so the tile's
// lanes run along C's many rows (src/gpu/ops/gemm.ts, gemmTransposesC). Element (m, n) of the kernel's
// product goes to C[n, m], and the bias runs along the kernel's rows. The host sets it only with α = 1
// (ALPHA_ONE: the accumulators start from the bias) and β = 0.
override TRANS_C: bool = false;
// Whether the one-k loop is compiled: only where K % 4 ≠ 0 leaves it the last k (the four-k loop takes
// every layout, vec4 loads or not). On SwiftShader its mere presence costs:
// entering it copies every accumulator into the loop's own (a tile's 512 values, twice), and the code
// is a third larger (measured in src/gpu/ops/gemm.ts).
override K_REMAINDER: bool = true;
// ⌊K / 4⌋ where K is 4 … 16, else 0: its one to four four-k passes are written out straight-line, with
// no loop (the k remainder still loops). On SwiftShader a loop copies every loop-carried accumulator on
// entry and merges them all under the lanes' mask once per pass, a fair share of a call of so few k
// (measured in src/gpu/ops/gemm.ts, gemmKPasses; the host keeps three or four passes' code short).
override K_PASSES: u32 = 0u;
// M = 1 (a bias gradient, 1ᵀ·dG): only the first row's accumulator, so the seven clamped duplicates
// of row 0 cost nothing.
override ONE_ROW: bool = false;

struct GemmDims {
  M: u32,
  N: u32,
  K: u32,
  a_offset: u32,
  a_batch_stride: u32,
  b_offset: u32,
  b_batch_stride: u32,
  bias_offset: u32,
  bias_batch_stride: u32,
  c_offset: u32,
  c_batch_stride: u32,
  alpha: f32,
  beta: f32,
  ldc: u32,  // elements between C's rows (≥ N; N where C is dense, more where a call writes some of its columns)
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> dims: GemmDims;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<weight4>;
@group(0) @binding(3) var<storage, read> bias: array<weight4>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;          // entry `gemm`
@group(0) @binding(4) var<storage, read_write> c4: array<vec4<f32>>;   // entry `gemm_vec4`: N % 4 == 0, aligned
@group(0) @binding(5) var<storage, read> a4: array<vec4<f32>>;         // A again, as vec4 (A_VEC4)

// Element i of B (or of the bias), widened to f32.
fn b_at(i: u32) -> f32 {
  return widen4(b[i / 4u])[i % 4u];
}

// op(B)[k, n0 … n0 + 3] for one k, one element at a time (columns past N clamped).
fn b_row(z: u32, k: u32, n0: u32) -> vec4<f32> {
  let base = dims.b_offset + z * dims.b_batch_stride;
  let n_last = dims.N - 1u;
  if (TRANS_B) {
    return vec4<f32>(b_at(base + min(n0, n_last) * dims.K + k), b_at(base + min(n0 + 1u, n_last) * dims.K + k),
                     b_at(base + min(n0 + 2u, n_last) * dims.K + k), b_at(base + min(n0 + 3u, n_last) * dims.K + k));
  }
  let row = base + k * dims.N;
  return vec4<f32>(b_at(row + min(n0, n_last)), b_at(row + min(n0 + 1u, n_last)), b_at(row + min(n0 + 2u, n_last)), b_at(row + min(n0 + 3u, n_last)));
}

// Rows k … k + 3 of op(B) at columns n0 … n0 + 3, four vec4 loads (B_VEC4).
fn b_quad(z: u32, k: u32, n0: u32) -> mat4x4<f32> {
  let base = dims.b_offset + z * dims.b_batch_stride;
  if (TRANS_B) {
    // Stored rows n0 … n0 + 3 (clamped), each four consecutive k: the block transposed.
    let n_last = dims.N - 1u;
    return transpose(mat4x4<f32>(
      widen4(b[(base + min(n0, n_last) * dims.K + k) / 4u]), widen4(b[(base + min(n0 + 1u, n_last) * dims.K + k) / 4u]),
      widen4(b[(base + min(n0 + 2u, n_last) * dims.K + k) / 4u]), widen4(b[(base + min(n0 + 3u, n_last) * dims.K + k) / 4u])));
  }
  let q = (base + k * dims.N + n0) / 4u;  // n0 ≤ N − 4: the entry clamps quads past N
  let stride = dims.N / 4u;
  return mat4x4<f32>(widen4(b[q]), widen4(b[q + stride]), widen4(b[q + 2u * stride]), widen4(b[q + 3u * stride]));
}

// op(A)[m, k] (rows past M clamped to the last one: a harmless duplicate, never stored).
fn a_at(z: u32, m: u32, k: u32) -> f32 {
  let base = dims.a_offset + z * dims.a_batch_stride;
  let mm = min(m, dims.M - 1u);
  if (TRANS_A) { return a[base + k * dims.M + mm]; }
  return a[base + mm * dims.K + k];
}

// What an accumulator of the columns' quad starts from: their bias where α = 1 (start_value), else zero.
fn start_value(bias_quad: vec4<f32>) -> vec4<f32> {
  if (ALPHA_ONE) { return bias_quad; }
  return vec4<f32>(0.0);
}

// What the accumulators of the kernel's rows m … m + 7 start from: with TRANS_C their rows' bias (C's
// columns m …; rows past M clamped), each across its row's four lanes; else start_value for every row.
fn tile_start(z: u32, m: u32, bias_quad: vec4<f32>) -> Tile {
  if (!(TRANS_C && HAS_BIAS)) { return tile_of(start_value(bias_quad)); }
  let base = dims.bias_offset + z * dims.bias_batch_stride;
  let last = dims.M - 1u;
  return Tile(vec4<f32>(bias_at(base + min(m, last))), vec4<f32>(bias_at(base + min(m + 1u, last))),
              vec4<f32>(bias_at(base + min(m + 2u, last))), vec4<f32>(bias_at(base + min(m + 3u, last))),
              vec4<f32>(bias_at(base + min(m + 4u, last))), vec4<f32>(bias_at(base + min(m + 5u, last))),
              vec4<f32>(bias_at(base + min(m + 6u, last))), vec4<f32>(bias_at(base + min(m + 7u, last))));
}

// Element i of the bias, widened to f32.
fn bias_at(i: u32) -> f32 {
  return widen4(bias[i / 4u])[i % 4u];
}

// C[m, n0 … n0 + 3] before β: the accumulator as it is where it started from the bias, else α·acc + bias.
fn finish(acc: vec4<f32>, bias_quad: vec4<f32>) -> vec4<f32> {
  if (ALPHA_ONE) { return acc; }
  return fma(vec4<f32>(dims.alpha), acc, bias_quad);
}

// The ROWS accumulators of one invocation (a Tile, shaders/tile.wgsl): C[m0 + r, n0 … n0 + 3] before β
// (and before α and the bias unless ALPHA_ONE, where they start from the bias `bq`).
fn tile(lane: u32, z: u32, m0: u32, n0: u32, bq: vec4<f32>) -> Tile {
  let K = dims.K;
  var t = tile_start(z, m0, bq);
  var k = 0u;
  if (K_PASSES > 0u) {  // K of 4 … 16: its passes straight-line, no loop (K_PASSES)
    t = tile_pass(t, lane, z, m0, n0, 0u);
    if (K_PASSES > 1u) { t = tile_pass(t, lane, z, m0, n0, 4u); }
    if (K_PASSES > 2u) { t = tile_pass(t, lane, z, m0, n0, 8u); }
    if (K_PASSES > 3u) { t = tile_pass(t, lane, z, m0, n0, 12u); }
    k = 4u * K_PASSES;
  } else {
    for (; k + 4u <= K; k += 4u) {
      t = tile_pass(t, lane, z, m0, n0, k);
    }
  }
  for (; K_REMAINDER && k < K; k++) {
    let w = b_row4(z, k, n0);
    if (ONE_ROW) {
      t.r0 = fma(live_columns(w), vec4<f32>(a_at(z, m0, k)), t.r0);
    } else {
      t = one_k(t, w, a_column8(lane, z, m0, k));
    }
  }
  return t;
}

// One pass of a tile over k … k + 3 (tile).
fn tile_pass(t: Tile, lane: u32, z: u32, m0: u32, n0: u32, k: u32) -> Tile {
  let w = b_quad_any(z, k, n0);
  if (ONE_ROW) {
    var one = t;
    one.r0 = quad_fma(w, a_k4(z, m0, k), t.r0);
    return one;
  }
  return quad_rows(t, w, a_rows8_any(lane, z, m0, k));
}

// op(A)[m, k … k + 3] (row m clamped to the last): one vec4 load where A_VEC4 holds and A is not
// transposed, else four scalar loads from one computed index.
fn a_k4(z: u32, m: u32, k: u32) -> vec4<f32> {
  let base = dims.a_offset + z * dims.a_batch_stride;
  let mm = min(m, dims.M - 1u);
  if (TRANS_A) {
    let i = base + k * dims.M + mm;
    let s = dims.M;
    return vec4<f32>(a[i], a[i + s], a[i + 2u * s], a[i + 3u * s]);
  }
  let i = base + mm * dims.K + k;
  if (A_VEC4) { return a4[i / 4u]; }
  return vec4<f32>(a[i], a[i + 1u], a[i + 2u], a[i + 3u]);
}

// Rows m … m + 7 of op(A) at k … k + 3, whatever the alignment: a_rows8 where A_VEC4 holds, else each
// row's four k from scalar loads (with subgroups, invocation lane mod 4 loads rows lane mod 4 and
// 4 + lane mod 4 for its subgroup, as a_column8 does).
fn a_rows8_any(lane: u32, z: u32, m: u32, k: u32) -> Rows8 {
  if (A_VEC4) { return a_rows8(lane, dims.a_offset + z * dims.a_batch_stride, m, k); }
  if (SUBGROUPS) {
    let lo = lane_values(a_k4(z, m + lane % 4u, k));
    let hi = lane_values(a_k4(z, m + 4u + lane % 4u, k));
    return Rows8(lo.l0, lo.l1, lo.l2, lo.l3, hi.l0, hi.l1, hi.l2, hi.l3);
  }
  return Rows8(a_k4(z, m, k), a_k4(z, m + 1u, k), a_k4(z, m + 2u, k), a_k4(z, m + 3u, k),
               a_k4(z, m + 4u, k), a_k4(z, m + 5u, k), a_k4(z, m + 6u, k), a_k4(z, m + 7u, k));
}

// Rows k … k + 3 of op(B) at columns n0 … n0 + 3 (the matrix's columns): b_quad where B_VEC4 holds,
// else four b_row.
fn b_quad_any(z: u32, k: u32, n0: u32) -> mat4x4<f32> {
  if (B_VEC4) { return b_quad(z, k, n0); }
  return mat4x4<f32>(b_row(z, k, n0), b_row(z, k + 1u, n0), b_row(z, k + 2u, n0), b_row(z, k + 3u, n0));
}

// Rows m … m + 7 of op(A) (clamped to the last row) at k … k + 3 (A_VEC4; m a multiple of 4). A stored
// (M, K): with subgroups, invocation (lane mod 4) loads rows lane mod 4 and 4 + lane mod 4 for its
// subgroup. A stored (K, M), M % 4 == 0: two vec4s along m at each k, the 4×8 block turned (a block
// past M — m ≥ M — reads the last one, never stored). Rows8 is in shaders/tile.wgsl.
fn a_rows8(lane: u32, base: u32, m: u32, k: u32) -> Rows8 {
  let M = dims.M;
  let K = dims.K;
  if (TRANS_A) {
    let m_lo = min(m, M - 4u);
    let m_hi = min(m + 4u, M - 4u);
    var lo: mat4x4<f32>;
    var hi: mat4x4<f32>;
    if (SUBGROUPS) {
      let l = lane_values(a4[(base + (k + lane % 4u) * M + m_lo) / 4u]);
      let h = lane_values(a4[(base + (k + lane % 4u) * M + m_hi) / 4u]);
      lo = transpose(mat4x4<f32>(l.l0, l.l1, l.l2, l.l3));
      hi = transpose(mat4x4<f32>(h.l0, h.l1, h.l2, h.l3));
    } else {
      lo = transpose(mat4x4<f32>(a4[(base + k * M + m_lo) / 4u], a4[(base + (k + 1u) * M + m_lo) / 4u],
                                 a4[(base + (k + 2u) * M + m_lo) / 4u], a4[(base + (k + 3u) * M + m_lo) / 4u]));
      hi = transpose(mat4x4<f32>(a4[(base + k * M + m_hi) / 4u], a4[(base + (k + 1u) * M + m_hi) / 4u],
                                 a4[(base + (k + 2u) * M + m_hi) / 4u], a4[(base + (k + 3u) * M + m_hi) / 4u]));
    }
    return Rows8(lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]);
  }
  if (SUBGROUPS) {
    let lo = lane_values(a4[(base + min(m + lane % 4u, M - 1u) * K + k) / 4u]);
    let hi = lane_values(a4[(base + min(m + 4u + lane % 4u, M - 1u) * K + k) / 4u]);
    return Rows8(lo.l0, lo.l1, lo.l2, lo.l3, hi.l0, hi.l1, hi.l2, hi.l3);
  }
  return Rows8(a4[(base + min(m, M - 1u) * K + k) / 4u], a4[(base + min(m + 1u, M - 1u) * K + k) / 4u],
               a4[(base + min(m + 2u, M - 1u) * K + k) / 4u], a4[(base + min(m + 3u, M - 1u) * K + k) / 4u],
               a4[(base + min(m + 4u, M - 1u) * K + k) / 4u], a4[(base + min(m + 5u, M - 1u) * K + k) / 4u],
               a4[(base + min(m + 6u, M - 1u) * K + k) / 4u], a4[(base + min(m + 7u, M - 1u) * K + k) / 4u]);
}

// op(A)[m … m + 7, k], one k (rows past M clamped), as two vec4s: rows m … m + 3, then m + 4 … m + 7.
// With subgroups, invocation (lane mod 4) loads rows m + lane mod 4 and m + 4 + lane mod 4 for its
// whole subgroup, which needs the same rows: two loads per invocation instead of eight (the k
// remainder). Uniform control flow.
fn a_column8(lane: u32, z: u32, m: u32, k: u32) -> mat2x4<f32> {
  if (SUBGROUPS) { return mat2x4<f32>(lane_scalars(a_at(z, m + lane % 4u, k)), lane_scalars(a_at(z, m + 4u + lane % 4u, k))); }
  return mat2x4<f32>(vec4<f32>(a_at(z, m, k), a_at(z, m + 1u, k), a_at(z, m + 2u, k), a_at(z, m + 3u, k)),
                     vec4<f32>(a_at(z, m + 4u, k), a_at(z, m + 5u, k), a_at(z, m + 6u, k), a_at(z, m + 7u, k)));
}

// op(B)[k, n0 … n0 + 3] for one k: one vec4 load where B_VEC4 holds (n0 ≤ N − 4), else b_row.
fn b_row4(z: u32, k: u32, n0: u32) -> vec4<f32> {
  if (TRANS_B || !B_VEC4) { return b_row(z, k, n0); }
  return widen4(b[(dims.b_offset + z * dims.b_batch_stride + k * dims.N + n0) / 4u]);
}

// C[m, n0 … n0 + 3] = α·acc + β·C + bias, four columns in one store (entry gemm_vec4).
fn store_quad(i: u32, acc: vec4<f32>, bias_quad: vec4<f32>) {
  var v = finish(acc, bias_quad);
  if (ACCUMULATE) { v = fma(vec4<f32>(dims.beta), c4[i], v); }
  c4[i] = v;
}

// The same one element at a time from element i of C, the columns `step` elements apart (c_steps),
// columns past N skipped (entries gemm, gemm_wide_rows).
fn store_row(i: u32, n0: u32, acc: vec4<f32>, bias_quad: vec4<f32>, step: u32) {
  let v = finish(acc, bias_quad);
  for (var e = 0u; e < 4u; e++) {
    if (n0 + e < dims.N) {
      var out = v[e];
      if (ACCUMULATE) { out = fma(dims.beta, c[i + e * step], out); }
      c[i + e * step] = out;
    }
  }
}

// Where the kernel's element (m, n) lies in C, from C's start: m · steps.x + n · steps.y — (ldc, 1), or
// with TRANS_C (1, ldc): the kernel's rows are C's columns (entries gemm, gemm_wide_rows).
fn c_steps() -> vec2<u32> {
  if (TRANS_C) { return vec2<u32>(1u, dims.ldc); }
  return vec2<u32>(dims.ldc, 1u);
}

// bias[n0 … n0 + 3] of batch z (zeros without HAS_BIAS, and with TRANS_C, where the bias runs along the
// rows: tile_start; columns past N read a clamped element).
fn bias_quad(z: u32, n0: u32, aligned: bool) -> vec4<f32> {
  if (!HAS_BIAS || TRANS_C) { return vec4<f32>(0.0); }
  let base = dims.bias_offset + z * dims.bias_batch_stride;
  if (aligned) { return widen4(bias[(base + n0) / 4u]); }
  let n_last = dims.N - 1u;
  return vec4<f32>(widen4(bias[(base + min(n0, n_last)) / 4u])[(base + min(n0, n_last)) % 4u],
                   widen4(bias[(base + min(n0 + 1u, n_last)) / 4u])[(base + min(n0 + 1u, n_last)) % 4u],
                   widen4(bias[(base + min(n0 + 2u, n_last)) / 4u])[(base + min(n0 + 2u, n_last)) % 4u],
                   widen4(bias[(base + min(n0 + 3u, n_last)) / 4u])[(base + min(n0 + 3u, n_last)) % 4u]);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gemm_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  // Rows and batch come from the workgroup, so every branch on them is uniform (the subgroup
  // broadcasts need that); quads past N compute on the last quad and store nothing.
  let lane = subgroup_lane();
  let m0 = wid.y * ROWS;
  let z = wid.z;
  if (m0 >= dims.M) { return; }
  let quads = dims.N / 4u;
  let n0 = 4u * min(gid.x, quads - 1u);
  let bq = bias_quad(z, n0, true);
  let t = tile(lane, z, m0, n0, bq);
  if (gid.x >= quads) { return; }
  let rows = min(ROWS, dims.M - m0);
  store_tile((dims.c_offset + z * dims.c_batch_stride + m0 * dims.ldc + n0) / 4u, dims.ldc / 4u, t, bq, rows);
}

// The first `rows` rows of a tile, at vec4 index `first` of C, rows `stride` vec4s apart (gemm_vec4, gemm_wide).
fn store_tile(first: u32, stride: u32, t: Tile, bq: vec4<f32>, rows: u32) {
  store_quad(first, t.r0, bq);
  if (rows > 1u) { store_quad(first + stride, t.r1, bq); }
  if (rows > 2u) { store_quad(first + 2u * stride, t.r2, bq); }
  if (rows > 3u) { store_quad(first + 3u * stride, t.r3, bq); }
  if (rows > 4u) { store_quad(first + 4u * stride, t.r4, bq); }
  if (rows > 5u) { store_quad(first + 5u * stride, t.r5, bq); }
  if (rows > 6u) { store_quad(first + 6u * stride, t.r6, bq); }
  if (rows > 7u) { store_quad(first + 7u * stride, t.r7, bq); }
}

// The same one element at a time from element `first` of C, the kernel's rows and columns `steps` apart
// (c_steps), columns past N skipped (gemm, gemm_wide_rows).
fn store_tile_rows(first: u32, steps: vec2<u32>, n0: u32, t: Tile, bq: vec4<f32>, rows: u32) {
  store_row(first, n0, t.r0, bq, steps.y);
  if (rows > 1u) { store_row(first + steps.x, n0, t.r1, bq, steps.y); }
  if (rows > 2u) { store_row(first + 2u * steps.x, n0, t.r2, bq, steps.y); }
  if (rows > 3u) { store_row(first + 3u * steps.x, n0, t.r3, bq, steps.y); }
  if (rows > 4u) { store_row(first + 4u * steps.x, n0, t.r4, bq, steps.y); }
  if (rows > 5u) { store_row(first + 5u * steps.x, n0, t.r5, bq, steps.y); }
  if (rows > 6u) { store_row(first + 6u * steps.x, n0, t.r6, bq, steps.y); }
  if (rows > 7u) { store_row(first + 7u * steps.x, n0, t.r7, bq, steps.y); }
}

// One pass of the wide tiles over k … k + 3: quad q's B rows and group g's A rows, loaded once, grow
// tile t<g><q> (wide_tiles).
fn wide_pass(tiles: WideTiles, lane: u32, z: u32, m0: u32, n: vec4<u32>, k: u32) -> WideTiles {
  var w = tiles;
  let b0 = b_quad_any(z, k, n.x);
  let b1 = b_quad_any(z, k, n.y);
  var b2 = b0;
  var b3 = b0;
  if (WIDE_QUADS > 2u) {
    b2 = b_quad_any(z, k, n.z);
    b3 = b_quad_any(z, k, n.w);
  }
  let a0 = a_rows8_any(lane, z, m0, k);
  w.t00 = quad_rows(w.t00, b0, a0);
  w.t01 = quad_rows(w.t01, b1, a0);
  if (WIDE_QUADS > 2u) {
    w.t02 = quad_rows(w.t02, b2, a0);
    w.t03 = quad_rows(w.t03, b3, a0);
  }
  let a1 = a_rows8_any(lane, z, m0 + 8u, k);
  w.t10 = quad_rows(w.t10, b0, a1);
  w.t11 = quad_rows(w.t11, b1, a1);
  if (WIDE_QUADS > 2u) {
    w.t12 = quad_rows(w.t12, b2, a1);
    w.t13 = quad_rows(w.t13, b3, a1);
  }
  if (WIDE_GROUPS > 2u) {
    let a2 = a_rows8_any(lane, z, m0 + 16u, k);
    w.t20 = quad_rows(w.t20, b0, a2);
    w.t21 = quad_rows(w.t21, b1, a2);
    if (WIDE_QUADS > 2u) {
      w.t22 = quad_rows(w.t22, b2, a2);
      w.t23 = quad_rows(w.t23, b3, a2);
    }
    let a3 = a_rows8_any(lane, z, m0 + 24u, k);
    w.t30 = quad_rows(w.t30, b0, a3);
    w.t31 = quad_rows(w.t31, b1, a3);
    if (WIDE_QUADS > 2u) {
      w.t32 = quad_rows(w.t32, b2, a3);
      w.t33 = quad_rows(w.t33, b3, a3);
    }
  }
  return w;
}

// The tiles of one wide invocation (block of 8·WIDE_GROUPS rows from m0, quads at columns n.x, n.y and,
// with four quads, n.z, n.w; WideTiles in tile.wgsl; the groups past WIDE_GROUPS and the quads past
// WIDE_QUADS stay zero and compile away; each quad's tiles start from start_value of its column of
// `bias`). Four k per pass (vec4 loads where A and B allow), then the k remainder one at a time.
fn wide_tiles(lane: u32, z: u32, m0: u32, n: vec4<u32>, bias: mat4x4<f32>) -> WideTiles {
  var w: WideTiles;
  if (TRANS_C && HAS_BIAS) {  // the bias along the rows: each group's tiles start from its rows' bias
    let g0 = tile_start(z, m0, bias[0]);
    let g1 = tile_start(z, m0 + 8u, bias[0]);
    let g2 = tile_start(z, m0 + 16u, bias[0]);
    let g3 = tile_start(z, m0 + 24u, bias[0]);
    w = WideTiles(g0, g0, g0, g0, g1, g1, g1, g1, g2, g2, g2, g2, g3, g3, g3, g3);
  } else {
    let s0 = tile_of(start_value(bias[0]));
    let s1 = tile_of(start_value(bias[1]));
    let s2 = tile_of(start_value(bias[2]));
    let s3 = tile_of(start_value(bias[3]));
    w = WideTiles(s0, s1, s2, s3, s0, s1, s2, s3, s0, s1, s2, s3, s0, s1, s2, s3);
  }
  var k = 0u;
  if (K_PASSES > 0u) {  // K of 4 … 16: its passes straight-line, no loop (K_PASSES)
    w = wide_pass(w, lane, z, m0, n, 0u);
    if (K_PASSES > 1u) { w = wide_pass(w, lane, z, m0, n, 4u); }
    if (K_PASSES > 2u) { w = wide_pass(w, lane, z, m0, n, 8u); }
    if (K_PASSES > 3u) { w = wide_pass(w, lane, z, m0, n, 12u); }
    k = 4u * K_PASSES;
  } else {
    for (; k + 4u <= dims.K; k += 4u) {
      w = wide_pass(w, lane, z, m0, n, k);
    }
  }
  for (; K_REMAINDER && k < dims.K; k++) {  // the k remainder, one at a time
    let b0 = b_row4(z, k, n.x);
    let b1 = b_row4(z, k, n.y);
    var b2 = b0;
    var b3 = b0;
    if (WIDE_QUADS > 2u) {
      b2 = b_row4(z, k, n.z);
      b3 = b_row4(z, k, n.w);
    }
    let x0 = a_column8(lane, z, m0, k);
    w.t00 = one_k(w.t00, b0, x0);
    w.t01 = one_k(w.t01, b1, x0);
    if (WIDE_QUADS > 2u) {
      w.t02 = one_k(w.t02, b2, x0);
      w.t03 = one_k(w.t03, b3, x0);
    }
    let x1 = a_column8(lane, z, m0 + 8u, k);
    w.t10 = one_k(w.t10, b0, x1);
    w.t11 = one_k(w.t11, b1, x1);
    if (WIDE_QUADS > 2u) {
      w.t12 = one_k(w.t12, b2, x1);
      w.t13 = one_k(w.t13, b3, x1);
    }
    if (WIDE_GROUPS > 2u) {
      let x2 = a_column8(lane, z, m0 + 16u, k);
      w.t20 = one_k(w.t20, b0, x2);
      w.t21 = one_k(w.t21, b1, x2);
      if (WIDE_QUADS > 2u) {
        w.t22 = one_k(w.t22, b2, x2);
        w.t23 = one_k(w.t23, b3, x2);
      }
      let x3 = a_column8(lane, z, m0 + 24u, k);
      w.t30 = one_k(w.t30, b0, x3);
      w.t31 = one_k(w.t31, b1, x3);
      if (WIDE_QUADS > 2u) {
        w.t32 = one_k(w.t32, b2, x3);
        w.t33 = one_k(w.t33, b3, x3);
      }
    }
  }
  return w;
}

// The first columns of the invocation's WIDE_QUADS quads from quad q0, each clamped to C's last quad
// (a quad past it computes a duplicate and stores nothing).
fn wide_columns(q0: u32, quads: u32) -> vec4<u32> {
  return 4u * min(vec4<u32>(q0, q0 + 1u, q0 + 2u, q0 + 3u), vec4<u32>(quads - 1u));
}

// Whether each of those quads lies in C.
fn wide_present(q0: u32, quads: u32) -> vec4<bool> {
  return vec4<u32>(q0, q0 + 1u, q0 + 2u, q0 + 3u) < vec4<u32>(quads);
}

// The bias of those quads (columns of the matrix), clamped where C is not four-aligned.
fn wide_bias(z: u32, n: vec4<u32>, aligned: bool) -> mat4x4<f32> {
  var b = mat4x4<f32>(bias_quad(z, n.x, aligned), bias_quad(z, n.y, aligned), vec4<f32>(0.0), vec4<f32>(0.0));
  if (WIDE_QUADS > 2u) {
    b[2] = bias_quad(z, n.z, aligned);
    b[3] = bias_quad(z, n.w, aligned);
  }
  return b;
}

// One group's tiles (`rows` rows from vec4 `first` of C, rows `stride` vec4s apart), quad by quad where
// it lies in C (entry gemm_wide).
fn store_wide_group(first: u32, stride: u32, n: vec4<u32>, has: vec4<bool>, t0: Tile, t1: Tile, t2: Tile, t3: Tile, bias: mat4x4<f32>, rows: u32) {
  store_tile(first + n.x / 4u, stride, t0, bias[0], rows);
  if (has.y) { store_tile(first + n.y / 4u, stride, t1, bias[1], rows); }
  if (WIDE_QUADS > 2u && has.z) { store_tile(first + n.z / 4u, stride, t2, bias[2], rows); }
  if (WIDE_QUADS > 2u && has.w) { store_tile(first + n.w / 4u, stride, t3, bias[3], rows); }
}

// The same one element at a time from element `first` of C, the kernel's rows and columns `steps` apart
// (entry gemm_wide_rows).
fn store_wide_group_rows(first: u32, steps: vec2<u32>, n: vec4<u32>, has: vec4<bool>, t0: Tile, t1: Tile, t2: Tile, t3: Tile, bias: mat4x4<f32>, rows: u32) {
  store_tile_rows(first + n.x * steps.y, steps, n.x, t0, bias[0], rows);
  if (has.y) { store_tile_rows(first + n.y * steps.y, steps, n.y, t1, bias[1], rows); }
  if (WIDE_QUADS > 2u && has.z) { store_tile_rows(first + n.z * steps.y, steps, n.z, t2, bias[2], rows); }
  if (WIDE_QUADS > 2u && has.w) { store_tile_rows(first + n.w * steps.y, steps, n.w, t3, bias[3], rows); }
}

// Invocation (quads from q0 = WIDE_QUADS·gid.x, block of 8·WIDE_GROUPS rows m0, batch z = wid.z):
// C[m0 …, its quads' columns] (wide_tiles). Quads past C's last one compute on the last and store
// nothing, as do rows past M. `gemm_wide` stores vec4s (C and the bias four-aligned), `gemm_wide_rows`
// one element at a time; their store blocks follow the same pattern (test/structure/wgsl.test.ts).
@compute @workgroup_size(WORKGROUP_SIZE)
fn gemm_wide(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let lane = subgroup_lane();
  let m0 = wid.y * ROWS * WIDE_GROUPS;
  let z = wid.z;
  if (m0 >= dims.M) { return; }
  let quads = dims.N / 4u;
  let q0 = WIDE_QUADS * gid.x;
  let n = wide_columns(q0, quads);
  let bias = wide_bias(z, n, true);
  let w = wide_tiles(lane, z, m0, n, bias);
  if (q0 >= quads) { return; }
  let rows = min(ROWS * WIDE_GROUPS, dims.M - m0);
  let first = (dims.c_offset + z * dims.c_batch_stride + m0 * dims.ldc) / 4u;
  let stride = dims.ldc / 4u;
  let has = wide_present(q0, quads);
  store_wide_group(first, stride, n, has, w.t00, w.t01, w.t02, w.t03, bias, rows);
  if (rows > 8u) { store_wide_group(first + 8u * stride, stride, n, has, w.t10, w.t11, w.t12, w.t13, bias, rows - 8u); }
  if (WIDE_GROUPS > 2u && rows > 16u) { store_wide_group(first + 16u * stride, stride, n, has, w.t20, w.t21, w.t22, w.t23, bias, rows - 16u); }
  if (WIDE_GROUPS > 2u && rows > 24u) { store_wide_group(first + 24u * stride, stride, n, has, w.t30, w.t31, w.t32, w.t33, bias, rows - 24u); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gemm_wide_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let lane = subgroup_lane();
  let m0 = wid.y * ROWS * WIDE_GROUPS;
  let z = wid.z;
  if (m0 >= dims.M) { return; }
  let quads = (dims.N + 3u) / 4u;
  let q0 = WIDE_QUADS * gid.x;
  let n = wide_columns(q0, quads);
  let bias = wide_bias(z, n, false);
  let w = wide_tiles(lane, z, m0, n, bias);
  if (q0 >= quads) { return; }
  let rows = min(ROWS * WIDE_GROUPS, dims.M - m0);
  let steps = c_steps();
  let first = dims.c_offset + z * dims.c_batch_stride + m0 * steps.x;
  let has = wide_present(q0, quads);
  store_wide_group_rows(first, steps, n, has, w.t00, w.t01, w.t02, w.t03, bias, rows);
  if (rows > 8u) { store_wide_group_rows(first + 8u * steps.x, steps, n, has, w.t10, w.t11, w.t12, w.t13, bias, rows - 8u); }
  if (WIDE_GROUPS > 2u && rows > 16u) { store_wide_group_rows(first + 16u * steps.x, steps, n, has, w.t20, w.t21, w.t22, w.t23, bias, rows - 16u); }
  if (WIDE_GROUPS > 2u && rows > 24u) { store_wide_group_rows(first + 24u * steps.x, steps, n, has, w.t30, w.t31, w.t32, w.t33, bias, rows - 24u); }
}

// The same as gemm_vec4, storing one element at a time: N not a multiple of 4, or C / the bias not
// 16-byte aligned. Two entry points (and two wide ones) because `c` and `c4` share binding 4 and an
// entry point may use only one of them; their row blocks (store_tile, store_tile_rows) are checked line
// by line by test/structure/wgsl.test.ts.
@compute @workgroup_size(WORKGROUP_SIZE)
fn gemm(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let lane = subgroup_lane();
  let m0 = wid.y * ROWS;
  let z = wid.z;
  if (m0 >= dims.M) { return; }
  let quads = (dims.N + 3u) / 4u;
  let n0 = 4u * min(gid.x, quads - 1u);
  let bq = bias_quad(z, n0, false);
  let t = tile(lane, z, m0, n0, bq);
  if (gid.x >= quads) { return; }
  let rows = min(ROWS, dims.M - m0);
  let steps = c_steps();
  store_tile_rows(dims.c_offset + z * dims.c_batch_stride + m0 * steps.x + n0 * steps.y, steps, n0, t, bq, rows);
}
