// Attention over a source, forward and backward (src/reference/attention.ts has the equations).
// Rows are time-major: query row r = t·B + b of (T·B, ·), key row s·B + b of (S·B, ·); α is (T, B, S).
// The score comes in one of two forms (KIND):
//   KIND_DOT     score(r, s) = Σ_k score_q[r, k] · score_k[s·B + b, k]   "dot" (score_k = the keys),
//                                                                         "general" (score_k = keys · Wᵀ)
//   KIND_CONCAT  score(r, s) = Σ_a v[a] · tanh(score_q[r, a] + score_k[s·B + b, a])  (score_q = q·W_qᵀ,
//                                                                         score_k = keys · W_kᵀ)
// Positions s ≥ lengths[b] take no part: α is 0 there.
//
// Entry `attend_scores` (one invocation per query row): α (the scores, their maximum, exp, the sum).
// Entry `attend_context` (one invocation per (r, j)): joined[r] = [context | q], context = Σ_s α_s keys[s].
// Entry `back_scores` (one invocation per row): from dL/d(context) = d_joined[r, 0 … H_k), dscore(r, s) =
//   α_s (dα_s − Σ α dα), dα_s = dcontext · keys[s].
// A row's own loops run in one invocation: no workgroup memory and no barriers, which cost dearly on
// software adapters (a workgroup per row with tree reductions took 3× as long on SwiftShader), while the
// rows (T·B of them) give the parallelism.
// Entry `back_query` (one invocation per (r, k)): KIND_DOT: d_query[r, k] = d_joined[r, H_k + k] +
//   Σ_s dscore · score_k[s, k]; KIND_CONCAT: d_score_q[r, a] = Σ_s dscore · v[a] · (1 − u²).
// Entry `back_direct` (one invocation per (r, k)): d_query[r, k] = d_joined[r, H_k + k] (KIND_CONCAT's
//   share that does not pass through the score).
// Entry `back_keys` (one invocation per (s·B + b, k)): d_keys = Σ_t α · dcontext, and with SCORE_ON_KEYS
//   (dot) also + Σ_t dscore · score_q[t, k].
// Entry `back_score_keys` (one invocation per (s·B + b, k)): KIND_DOT: d_score_k = Σ_t dscore · score_q;
//   KIND_CONCAT: Σ_t dscore · v[a] · (1 − u²), and from the same u its share of dL/dv, Σ_t dscore · u,
//   into v_partials[s·B + b, a] (0 past the row's length).
// Entry `back_v` (KIND_CONCAT, one invocation per a): d_v[a] = Σ_{s·B + b} v_partials[s·B + b, a] — the
//   tanh of every (t, s, b, a) evaluated once, in back_score_keys, not again here (Bahdanau's shape on
//   SwiftShader: 82–118 ms for back_v when it did).

const KIND_DOT: u32 = 0u;
const KIND_CONCAT: u32 = 1u;
override KIND: u32 = KIND_DOT;
override SCORE_ON_KEYS: bool = false;
override WORKGROUP_SIZE: u32 = 64u;
// The element entries' `_vec4` forms: consecutive quads of a row per invocation (1 on a GPU; more on a
// software adapter, src/gpu/ops/elementwise.ts's vectorsPerInvocation). Each quad's sum runs in the
// same order whichever invocation takes it.
override VECTORS: u32 = 1u;

struct AttentionDims {
  T: u32,
  B: u32,
  S: u32,
  H_k: u32,      // width of the keys (the context)
  H_q: u32,      // width of the query q (the decoder's output)
  W: u32,        // width of the score's operands (H_q for dot, A for concat)
  J: u32,        // row width of joined: H_k + H_q
  v_offset: u32,   // float offsets of v and of d_v (back_v's out): they live in the flat parameters and
  dv_offset: u32,  // gradients; every other tensor starts its buffer (recordAttend checks)
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> dims: AttentionDims;
@group(0) @binding(1) var<storage, read> lengths: array<u32>;
@group(0) @binding(2) var<storage, read> keys: array<f32>;            // (S·B, H_k): what the context sums
@group(0) @binding(3) var<storage, read> score_q: array<f32>;         // (T·B, W)
@group(0) @binding(4) var<storage, read> score_k: array<f32>;         // (S·B, W)
@group(0) @binding(5) var<storage, read> q: array<f32>;               // (T·B, H_q): the decoder's outputs
@group(0) @binding(6) var<storage, read_write> alpha: array<f32>;     // (T, B, S)
@group(0) @binding(7) var<storage, read_write> joined: array<f32>;    // [context | q] (T·B, J); its gradient in back_*
@group(0) @binding(8) var<storage, read_write> dscore: array<f32>;    // (T, B, S)
@group(0) @binding(9) var<storage, read_write> out: array<f32>;       // what a back_* entry makes
@group(0) @binding(10) var<storage, read> v: array<f32>;              // concat: v (W)
@group(0) @binding(11) var<storage, read_write> v_partials: array<f32>; // concat: (S·B, W); else a placeholder

fn score_of(r: u32, s: u32, b: u32) -> f32 {
  var acc = 0.0;
  let kr = s * dims.B + b;
  if (KIND == KIND_CONCAT) {
    for (var a = 0u; a < dims.W; a++) { acc = fma(v[dims.v_offset + a], tanh_safe(score_q[r * dims.W + a] + score_k[kr * dims.W + a]), acc); }
  } else {
    for (var k = 0u; k < dims.W; k++) { acc = fma(score_q[r * dims.W + k], score_k[kr * dims.W + k], acc); }
  }
  return acc;
}

// α_s = softmax over s < len of the raw scores that alpha[base + s] holds; 0 past len.
fn softmax_in_place(base: u32, len: u32) {
  var m = -3.0e38;
  for (var s = 0u; s < len; s++) { m = max(m, alpha[base + s]); }
  var z = 0.0;
  for (var s = 0u; s < len; s++) {
    let e = exp(alpha[base + s] - m);
    alpha[base + s] = e;
    z += e;
  }
  for (var s = 0u; s < dims.S; s++) { alpha[base + s] = select(0.0, alpha[base + s] / z, s < len); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn attend_scores(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let r = linear_index(gid, groups, WORKGROUP_SIZE);
  if (r >= dims.T * dims.B) { return; }
  let b = r % dims.B;
  let len = min(lengths[b], dims.S);
  for (var s = 0u; s < len; s++) { alpha[r * dims.S + s] = score_of(r, s, b); }
  softmax_in_place(r * dims.S, len);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn attend_context(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.T * dims.B * dims.J) { return; }
  let r = i / dims.J;
  let j = i % dims.J;
  if (j >= dims.H_k) {
    joined[i] = q[r * dims.H_q + j - dims.H_k];
    return;
  }
  let b = r % dims.B;
  let len = min(lengths[b], dims.S);
  var acc = 0.0;
  for (var s = 0u; s < len; s++) { acc = fma(alpha[r * dims.S + s], keys[(s * dims.B + b) * dims.H_k + j], acc); }
  joined[i] = acc;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn back_scores(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let r = linear_index(gid, groups, WORKGROUP_SIZE);
  if (r >= dims.T * dims.B) { return; }
  let b = r % dims.B;
  let len = min(lengths[b], dims.S);
  let base = r * dims.S;
  // dα_s first, then Σ α dα, then dscore in place.
  var dot = 0.0;
  for (var s = 0u; s < len; s++) {
    var acc = 0.0;
    for (var k = 0u; k < dims.H_k; k++) { acc = fma(joined[r * dims.J + k], keys[(s * dims.B + b) * dims.H_k + k], acc); }
    dscore[base + s] = acc;
    dot = fma(alpha[base + s], acc, dot);
  }
  dscore_in_place(base, len, dot);
}

// dscore_s = α_s (dα_s − Σ α dα) from the dα_s that dscore[base + s] holds and their α-weighted sum.
fn dscore_in_place(base: u32, len: u32, dot: f32) {
  for (var s = 0u; s < dims.S; s++) { dscore[base + s] = select(0.0, alpha[base + s] * (dscore[base + s] - dot), s < len); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn back_query(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.T * dims.B * dims.W) { return; }
  let r = i / dims.W;
  let k = i % dims.W;
  let b = r % dims.B;
  let len = min(lengths[b], dims.S);
  var acc = 0.0;
  for (var s = 0u; s < len; s++) {
    let ds = dscore[r * dims.S + s];
    let kr = s * dims.B + b;
    if (KIND == KIND_CONCAT) {
      // Σ_s ds·v·(1 − u²) with the 1 dropped: the scores' gradients sum to zero (a softmax's do), so
      // that part is only rounding, and when u is small it would swamp the −u² part that remains.
      let u = tanh_safe(score_q[r * dims.W + k] + score_k[kr * dims.W + k]);
      acc = fma(ds * v[dims.v_offset + k], -u * u, acc);
    } else {
      acc = fma(ds, score_k[kr * dims.W + k], acc);
    }
  }
  if (KIND == KIND_CONCAT) {
    out[i] = acc;
  } else {
    out[i] = joined[r * dims.J + dims.H_k + k] + acc;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn back_direct(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.T * dims.B * dims.H_q) { return; }
  out[i] = joined[(i / dims.H_q) * dims.J + dims.H_k + i % dims.H_q];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn back_keys(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.S * dims.B * dims.H_k) { return; }
  let kr = i / dims.H_k;
  let k = i % dims.H_k;
  let s = kr / dims.B;
  let b = kr % dims.B;
  var acc = 0.0;
  if (s < min(lengths[b], dims.S)) {
    for (var t = 0u; t < dims.T; t++) {
      let r = t * dims.B + b;
      acc = fma(alpha[r * dims.S + s], joined[r * dims.J + k], acc);
      if (SCORE_ON_KEYS) { acc = fma(dscore[r * dims.S + s], score_q[r * dims.W + k], acc); }
    }
  }
  out[i] = acc;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn back_score_keys(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.S * dims.B * dims.W) { return; }
  let kr = i / dims.W;
  let k = i % dims.W;
  let s = kr / dims.B;
  let b = kr % dims.B;
  var acc = 0.0;
  var dv = 0.0;
  if (s < min(lengths[b], dims.S)) {
    for (var t = 0u; t < dims.T; t++) {
      let r = t * dims.B + b;
      let ds = dscore[r * dims.S + s];
      if (KIND == KIND_CONCAT) {
        let u = tanh_safe(score_q[r * dims.W + k] + score_k[kr * dims.W + k]);
        acc = fma(ds * v[dims.v_offset + k], 1.0 - u * u, acc);
        dv = fma(ds, u, dv);
      } else {
        acc = fma(ds, score_q[r * dims.W + k], acc);
      }
    }
  }
  out[i] = acc;
  if (KIND == KIND_CONCAT) { v_partials[i] = dv; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn back_v(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let a = linear_index(gid, groups, WORKGROUP_SIZE);
  if (a >= dims.W) { return; }
  var acc = 0.0;
  for (var kr = 0u; kr < dims.S * dims.B; kr++) { acc += v_partials[kr * dims.W + a]; }
  out[dims.dv_offset + a] = acc;
}

// ---- The same entries four features at a time: `<entry>_vec4`, which the host picks when H_k, H_q
// and W are all multiples of 4 (rows then start on vec4 boundaries; every tensor but v starts its
// buffer). The same bindings, viewed as vec4: one load brings four features, and an invocation of an
// element entry owns four of them — on software adapters the loads, not the FMAs, bound these loops.
// Every sum runs in the scalar entries' order (per feature over s or t, and dot_in_order along a row),
// so the two families give the same bits: test/ops/attention.test.ts compares them exactly.
// v stays scalar (it lives at any offset in the flat parameters). Element entries run one invocation
// per (row, quad); the row entries, one per row as above.
@group(0) @binding(2) var<storage, read> keys4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> score_q4: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> score_k4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> q4: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> joined4: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read_write> out4: array<vec4<f32>>;
@group(0) @binding(11) var<storage, read_write> v_partials4: array<vec4<f32>>;

fn v_quad(a: u32) -> vec4<f32> {
  let o = dims.v_offset + 4u * a;
  return vec4<f32>(v[o], v[o + 1u], v[o + 2u], v[o + 3u]);
}

fn tanh_safe4(x: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(tanh_safe(x.x), tanh_safe(x.y), tanh_safe(x.z), tanh_safe(x.w));
}

// acc + x·y, its four products added in order, one FMA each: the scalar entries' order, so that both
// families give the same bits (a model trains the same whichever serves it).
fn dot_in_order(x: vec4<f32>, y: vec4<f32>, acc: f32) -> f32 {
  return fma(x.w, y.w, fma(x.z, y.z, fma(x.y, y.y, fma(x.x, y.x, acc))));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn attend_scores_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let r = linear_index(gid, groups, WORKGROUP_SIZE);
  if (r >= dims.T * dims.B) { return; }
  let b = r % dims.B;
  let len = min(lengths[b], dims.S);
  for (var s0 = 0u; s0 < len; s0 += 4u) {
    let scores = scores_block4(r, s0, b, len);
    for (var j = 0u; j < min(4u, len - s0); j++) { alpha[r * dims.S + s0 + j] = scores[j]; }
  }
  softmax_in_place(r * dims.S, len);
}

// The scores of positions s0 … s0 + 3 (those below len) of row r: each score's sum over the quads in
// ascending order, as score_of's over the features, while each quad of the query side (and concat's v)
// is loaded once for the four positions instead of once per position.
fn scores_block4(r: u32, s0: u32, b: u32, len: u32) -> vec4<f32> {
  let W4 = dims.W / 4u;
  let qr = r * W4;
  let k0 = (s0 * dims.B + b) * W4;
  let step = dims.B * W4;  // from one position's key row to the next
  let n = min(4u, len - s0);
  var acc = vec4<f32>(0.0);
  for (var k = 0u; k < W4; k++) {
    let qk = score_q4[qr + k];
    var vk = vec4<f32>(0.0);
    if (KIND == KIND_CONCAT) { vk = v_quad(k); }  // v: concat's only (a placeholder for the others)
    acc.x = score_term4(qk, vk, score_k4[k0 + k], acc.x);
    if (n > 1u) { acc.y = score_term4(qk, vk, score_k4[k0 + step + k], acc.y); }
    if (n > 2u) { acc.z = score_term4(qk, vk, score_k4[k0 + 2u * step + k], acc.z); }
    if (n > 3u) { acc.w = score_term4(qk, vk, score_k4[k0 + 3u * step + k], acc.w); }
  }
  return acc;
}

// One quad's share of a score: concat's v · tanh(score_q + score_k), or score_q · score_k.
fn score_term4(qk: vec4<f32>, vk: vec4<f32>, kk: vec4<f32>, acc: f32) -> f32 {
  if (KIND == KIND_CONCAT) { return dot_in_order(vk, tanh_safe4(qk + kk), acc); }
  return dot_in_order(qk, kk, acc);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn attend_context_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  let J4 = dims.J / 4u;
  let Hk4 = dims.H_k / 4u;
  let per_row = J4 / VECTORS;
  if (i >= dims.T * dims.B * per_row) { return; }
  let r = i / per_row;
  let j0 = (i % per_row) * VECTORS;
  let b = r % dims.B;
  let len = min(lengths[b], dims.S);
  for (var v = 0u; v < VECTORS; v++) {
    let j = j0 + v;
    if (j >= Hk4) {
      joined4[r * J4 + j] = q4[r * (dims.H_q / 4u) + j - Hk4];
    } else {
      var acc = vec4<f32>(0.0);
      for (var s = 0u; s < len; s++) { acc = fma(vec4<f32>(alpha[r * dims.S + s]), keys4[(s * dims.B + b) * Hk4 + j], acc); }
      joined4[r * J4 + j] = acc;
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn back_scores_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let r = linear_index(gid, groups, WORKGROUP_SIZE);
  if (r >= dims.T * dims.B) { return; }
  let b = r % dims.B;
  let len = min(lengths[b], dims.S);
  let base = r * dims.S;
  var dot = 0.0;
  for (var s0 = 0u; s0 < len; s0 += 4u) {
    let da = context_dots_block4(r, s0, b, len);
    for (var j = 0u; j < min(4u, len - s0); j++) {
      dscore[base + s0 + j] = da[j];
      dot = fma(alpha[base + s0 + j], da[j], dot);
    }
  }
  dscore_in_place(base, len, dot);
}

// dα of positions s0 … s0 + 3 (those below len) of row r: dL/d(context) · keys[s], each sum over the
// quads in ascending order, the context's gradient quad loaded once for the four positions (as
// scores_block4).
fn context_dots_block4(r: u32, s0: u32, b: u32, len: u32) -> vec4<f32> {
  let J4 = dims.J / 4u;
  let Hk4 = dims.H_k / 4u;
  let k0 = (s0 * dims.B + b) * Hk4;
  let step = dims.B * Hk4;
  let n = min(4u, len - s0);
  var d = vec4<f32>(0.0);
  for (var k = 0u; k < Hk4; k++) {
    let g = joined4[r * J4 + k];
    d.x = dot_in_order(g, keys4[k0 + k], d.x);
    if (n > 1u) { d.y = dot_in_order(g, keys4[k0 + step + k], d.y); }
    if (n > 2u) { d.z = dot_in_order(g, keys4[k0 + 2u * step + k], d.z); }
    if (n > 3u) { d.w = dot_in_order(g, keys4[k0 + 3u * step + k], d.w); }
  }
  return d;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn back_query_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  let W4 = dims.W / 4u;
  let per_row = W4 / VECTORS;
  if (i >= dims.T * dims.B * per_row) { return; }
  let r = i / per_row;
  let k0 = (i % per_row) * VECTORS;
  let b = r % dims.B;
  let len = min(lengths[b], dims.S);
  for (var v = 0u; v < VECTORS; v++) {
    let k = k0 + v;
    var acc = vec4<f32>(0.0);
    for (var s = 0u; s < len; s++) {
      let ds = vec4<f32>(dscore[r * dims.S + s]);
      let kr = s * dims.B + b;
      if (KIND == KIND_CONCAT) {
        // As back_query: the 1 of 1 − u² dropped.
        let u = tanh_safe4(score_q4[r * W4 + k] + score_k4[kr * W4 + k]);
        acc = fma(ds * v_quad(k), -u * u, acc);
      } else {
        acc = fma(ds, score_k4[kr * W4 + k], acc);
      }
    }
    if (KIND == KIND_CONCAT) {
      out4[r * W4 + k] = acc;
    } else {
      out4[r * W4 + k] = joined4[r * (dims.J / 4u) + dims.H_k / 4u + k] + acc;
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn back_direct_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  let Hq4 = dims.H_q / 4u;
  if (i >= dims.T * dims.B * Hq4) { return; }
  out4[i] = joined4[(i / Hq4) * (dims.J / 4u) + dims.H_k / 4u + i % Hq4];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn back_keys_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  let Hk4 = dims.H_k / 4u;
  let per_row = Hk4 / VECTORS;
  if (i >= dims.S * dims.B * per_row) { return; }
  let kr = i / per_row;
  let k0 = (i % per_row) * VECTORS;
  let s = kr / dims.B;
  let b = kr % dims.B;
  let J4 = dims.J / 4u;
  let W4 = dims.W / 4u;
  let valid = s < min(lengths[b], dims.S);
  for (var v = 0u; v < VECTORS; v++) {
    let k = k0 + v;
    var acc = vec4<f32>(0.0);
    if (valid) {
      for (var t = 0u; t < dims.T; t++) {
        let r = t * dims.B + b;
        acc = fma(vec4<f32>(alpha[r * dims.S + s]), joined4[r * J4 + k], acc);
        if (SCORE_ON_KEYS) { acc = fma(vec4<f32>(dscore[r * dims.S + s]), score_q4[r * W4 + k], acc); }
      }
    }
    out4[kr * Hk4 + k] = acc;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn back_score_keys_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  let W4 = dims.W / 4u;
  let per_row = W4 / VECTORS;
  if (i >= dims.S * dims.B * per_row) { return; }
  let kr = i / per_row;
  let k0 = (i % per_row) * VECTORS;
  let s = kr / dims.B;
  let b = kr % dims.B;
  let valid = s < min(lengths[b], dims.S);
  for (var v = 0u; v < VECTORS; v++) {
    let k = k0 + v;
    var acc = vec4<f32>(0.0);
    var dv = vec4<f32>(0.0);
    if (valid) {
      for (var t = 0u; t < dims.T; t++) {
        let r = t * dims.B + b;
        let ds = vec4<f32>(dscore[r * dims.S + s]);
        if (KIND == KIND_CONCAT) {
          let u = tanh_safe4(score_q4[r * W4 + k] + score_k4[kr * W4 + k]);
          acc = fma(ds * v_quad(k), 1.0 - u * u, acc);
          dv = fma(ds, u, dv);
        } else {
          acc = fma(ds, score_q4[r * W4 + k], acc);
        }
      }
    }
    out4[kr * W4 + k] = acc;
    if (KIND == KIND_CONCAT) { v_partials4[kr * W4 + k] = dv; }
  }
}
