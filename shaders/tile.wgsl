// The register tile of the GEMM (gemm.wgsl) and of the recurrent step's wide entry
// (recurrent-step.wgsl's `step_wide`), included after the prelude (src/gpu/wgsl.ts): eight rows' vec4
// accumulators and the multiply-adds that grow them. A tile holds rows r = 0 … 7 of one column quad
// (for the step: one hidden unit's gate lanes); the caller loads what the rows share once and feeds
// every row from it.

// Eight rows' accumulators: row r, columns n0 … n0 + 3 (a step: unit j's gates for batch row b0 + r).
struct Tile {
  r0: vec4<f32>, r1: vec4<f32>, r2: vec4<f32>, r3: vec4<f32>,
  r4: vec4<f32>, r5: vec4<f32>, r6: vec4<f32>, r7: vec4<f32>,
}

// A tile with v in every row (zero, or a bias).
fn tile_of(v: vec4<f32>) -> Tile {
  return Tile(v, v, v, v, v, v, v, v);
}

// Eight rows' values at four consecutive k: row r's x_r[0 … 3].
struct Rows8 {
  x0: vec4<f32>, x1: vec4<f32>, x2: vec4<f32>, x3: vec4<f32>,
  x4: vec4<f32>, x5: vec4<f32>, x6: vec4<f32>, x7: vec4<f32>,
}

// Gate-interleaved operands (src/gpu/layer-weights.ts) carry a GRU's 3 gates or a plain RNN's 1 in
// each vec4, the other lanes zero by construction. Where the host says so (GateLanes in
// src/gpu/program.ts, set by src/gpu/ops/gemm.ts), the multiply-adds of those lanes are left out:
// LIVE_COLUMNS of each column quad (the lanes past it keep their start value, the bias or zero), or
// LIVE_K of each four k (the k past it would add zero times zero). The live lanes' sums are the same, in the same order, to the bit.
override LIVE_COLUMNS: u32 = 4u;  // 1, 3 or 4
override LIVE_K: u32 = 4u;        // 1, 3 or 4

// acc + Σ_k x[k] · w[k] over one k-quad (fma4, in the prelude), on the live lanes only.
fn quad_fma(w: mat4x4<f32>, x: vec4<f32>, acc: vec4<f32>) -> vec4<f32> {
  if (LIVE_COLUMNS == 3u) {
    let sum = fma(w[3].xyz, vec3<f32>(x.w), fma(w[2].xyz, vec3<f32>(x.z), fma(w[1].xyz, vec3<f32>(x.y), fma(w[0].xyz, vec3<f32>(x.x), acc.xyz))));
    return vec4<f32>(sum, acc.w);
  }
  if (LIVE_COLUMNS == 1u) { return vec4<f32>(fma(w[3].x, x.w, fma(w[2].x, x.z, fma(w[1].x, x.y, fma(w[0].x, x.x, acc.x)))), acc.yzw); }
  if (LIVE_K == 3u) { return fma(w[2], vec4<f32>(x.z), fma(w[1], vec4<f32>(x.y), fma(w[0], vec4<f32>(x.x), acc))); }
  if (LIVE_K == 1u) { return fma(w[0], vec4<f32>(x.x), acc); }
  return fma4(w[0], w[1], w[2], w[3], x, acc);
}

// acc[r] += Σ_k x_r[k] · w_k over one k-quad: the four vec4 rows of the right operand (columns of `w`)
// scale row r's four values (quad_fma).
fn quad_rows(t: Tile, w: mat4x4<f32>, x: Rows8) -> Tile {
  return Tile(quad_fma(w, x.x0, t.r0), quad_fma(w, x.x1, t.r1), quad_fma(w, x.x2, t.r2), quad_fma(w, x.x3, t.r3),
              quad_fma(w, x.x4, t.r4), quad_fma(w, x.x5, t.r5), quad_fma(w, x.x6, t.r6), quad_fma(w, x.x7, t.r7));
}

// A row quad of the right operand with the lanes past LIVE_COLUMNS zeroed: a one-k multiply-add
// then leaves them as they were, as quad_fma does.
fn live_columns(w: vec4<f32>) -> vec4<f32> {
  return select(vec4<f32>(0.0), w, vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(LIVE_COLUMNS));
}

// One k: the eight rows' values `x` (rows 0 … 3, then 4 … 7) scale the right operand's row quad
// (live_columns of it).
fn one_k(t: Tile, quad: vec4<f32>, x: mat2x4<f32>) -> Tile {
  let w = live_columns(quad);
  return Tile(fma(w, vec4<f32>(x[0].x), t.r0), fma(w, vec4<f32>(x[0].y), t.r1), fma(w, vec4<f32>(x[0].z), t.r2), fma(w, vec4<f32>(x[0].w), t.r3),
              fma(w, vec4<f32>(x[1].x), t.r4), fma(w, vec4<f32>(x[1].y), t.r5), fma(w, vec4<f32>(x[1].z), t.r6), fma(w, vec4<f32>(x[1].w), t.r7));
}

// The tiles of one wide invocation: t<g><q> is group g of eight rows × column quad q (the recurrent
// step: hidden unit q of the invocation's units). A kernel uses as many as its overrides ask for; the
// rest stay zero and compile away.
struct WideTiles {
  t00: Tile, t01: Tile, t02: Tile, t03: Tile,
  t10: Tile, t11: Tile, t12: Tile, t13: Tile,
  t20: Tile, t21: Tile, t22: Tile, t23: Tile,
  t30: Tile, t31: Tile, t32: Tile, t33: Tile,
}
