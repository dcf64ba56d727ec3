// One step of backpropagation through time for one layer, all directions at once: the per-step
// backward path. The host dispatches s = T−1 … 0 (the forward's steps, newest first); direction 0
// handles t = s, direction 1 t = T−1−s, as in the forward (recurrent-common.wgsl's time_at).
//
// Entry `cell_backward` — invocation (unit j, row b, direction d): the total gradient reaching h_t,
// dh = dh_rec (from step t+1, through W_hh) + dOut[t] (from the layer above or the head; a row past
// its length takes none: its output there is a constant 0), through the cell to the gates'
// pre-activations. Writes
//   dg_x[d, t, b, j]  (4 lanes) what W_ih, b_ih and the input below see: LSTM (di, df, dg, do),
//                     GRU (dr, dz, dn), RNN (da);
//   dg_h[d, t, b, j]  what W_hh and b_hh see (GRU: dn·r in the n lane; the others: dg_x again);
//   direct[d, b, k]   the part of dh_{t−1} that does not go through W_hh: GRU's dh·z, and for a row
//                     past its length the whole of dh (the state passed through unchanged);
//   dh_hist[d, t, b, k] dh (for W_hr's gradient and the gradient-flow measure; 0 past the length),
// and updates dc[d, b, j] in place to dL/dc_{t−1} (LSTM).
// Entry `hidden_backward` — invocation (k of H_out, row b, direction d):
//   dh_rec'[d, b, k] = Σ_j W_hh[k, j] · dg_h[d, t, b, j] (gate lanes dotted) + direct[d, b, k].
// Entry `fused_backward` — the same two halves in one dispatch per step, without projection (then
// H_out = H and the unit j that the cell half needs is the k the hidden half computes): invocation
// (unit j, block of BLOCK_B rows, direction d) first takes dh_rec[j] of its rows from the previous
// dispatch's dg_h (Σ_j' W_hh[j, j']·dg_h[t_prev, j'] + direct — each W_hh vec4 loaded once for the
// block's rows), then runs the cell half with it. The step s = T−1 (the first) takes dh_rec from
// gstate (the head's gradient of h_n, or 0); an extra dispatch with s = T runs the hidden half alone
// and leaves dL/dh0 in gstate's dh_rec copy 1, where the per-step path leaves it.
//
// `saved` holds what the training forward kept (recurrent-step.wgsl's SAVE): the pre-activations
// (D, T, B, H, 4), c_t (D, T, B, H), h_raw (D, T, B, H); and what the shift kernel (train.wgsl) made
// from them: h_{t−1} (D, T, B, H_out) and c_{t−1} (D, T, B, H) as each step saw them. `gstate`: dh_rec
// double-buffered (D, B, H_out) ×2 — step s reads copy s % 2, writes the other — then dc (D, B, H), then
// direct (D, B, H_out). `dg`: dg_x (D, T, B, H, 4), dg_h (same; GRU), dh_hist (D, T, B, H_out). Offsets
// (floats) come in `dims`. Weights: the layer's packed W_hh in `params` (absolute vec4 offset), W_hr as
// plain elements of the same buffer.

override MODE: u32 = MODE_LSTM;
override HAS_PROJ: bool = false;
override WORKGROUP_SIZE: u32 = 64u;
override BLOCK_B: u32 = 1u;  // fused_backward: batch rows per invocation (1, 2, 4 or 8)

struct BackwardDims {
  T: u32,
  B: u32,
  H: u32,
  H_out: u32,
  D: u32,
  w_hh_offset: u32,   // vec4 index of W_hh (D, H_out, H) in `params`
  w_hr_offset: u32,   // element index of W_hr (D, P, H) in `params`
  pre: u32,           // float offsets in `saved` …
  c: u32,
  h_raw: u32,
  h_prev: u32,
  c_prev: u32,
  dg_x: u32,          // … and in `dg`
  dg_h: u32,
  dh_hist: u32,
  dout_stride: u32,   // floats per (t, b) row of dOut: D·H_out
}

struct StepIndex {
  s: u32,
}

@group(0) @binding(0) var<uniform> dims: BackwardDims;
@group(0) @binding(1) var<storage, read> lengths: array<u32>;
@group(0) @binding(2) var<storage, read> saved: array<f32>;
@group(0) @binding(3) var<storage, read> params: array<weight4>;
@group(0) @binding(4) var<storage, read> dout: array<f32>;            // (T, B, D·H_out)
@group(0) @binding(5) var<storage, read_write> dg: array<f32>;
@group(0) @binding(6) var<storage, read_write> gstate: array<f32>;
@group(1) @binding(0) var<uniform> step_index: StepIndex;

fn time_at(d: u32, s: u32) -> u32 {
  return select(s, dims.T - 1u - s, d == 1u);
}

fn param4(i: u32) -> vec4<f32> {
  return widen4(params[i]);
}

// Element i of W_hr, read from the same buffer as the packed weights (the trainer's flat layout).
fn w_hr_at(i: u32) -> f32 {
  let e = dims.w_hr_offset + i;
  return widen4(params[e / 4u])[e % 4u];
}

fn dh_rec_index(copy: u32, d: u32, b: u32, k: u32) -> u32 {
  return copy * dims.D * dims.B * dims.H_out + (d * dims.B + b) * dims.H_out + k;
}

fn dc_index(d: u32, b: u32, j: u32) -> u32 {
  return 2u * dims.D * dims.B * dims.H_out + (d * dims.B + b) * dims.H + j;
}

fn direct_index(d: u32, b: u32, k: u32) -> u32 {
  return 2u * dims.D * dims.B * dims.H_out + dims.D * dims.B * dims.H + (d * dims.B + b) * dims.H_out + k;
}

// The total dL/dh_t[k] of (d, b) at this step: the recurrent part `rec` and, where the row is still
// running, the layer output's.
fn dh_plus_out(rec: f32, d: u32, b: u32, t: u32, k: u32, valid: bool) -> f32 {
  if (!valid) { return rec; }
  return rec + dout[(t * dims.B + b) * dims.dout_stride + d * dims.H_out + k];
}

// The same with the recurrent part from gstate (the per-step path: hidden_backward wrote it).
fn dh_total(d: u32, b: u32, t: u32, k: u32, valid: bool) -> f32 {
  return dh_plus_out(gstate[dh_rec_index(step_index.s % 2u, d, b, k)], d, b, t, k, valid);
}

fn store4(base: u32, e: u32, v: vec4<f32>) {
  dg[base + 4u * e] = v.x;
  dg[base + 4u * e + 1u] = v.y;
  dg[base + 4u * e + 2u] = v.z;
  dg[base + 4u * e + 3u] = v.w;
}

// The cell half for (unit j, row b, direction d) at time t; `rec_j` is dh_rec of unit j (HAS_PROJ reads
// every unit's from gstate instead).
fn cell(d: u32, b: u32, t: u32, j: u32, rec_j: f32) {
  let H = dims.H;
  let B = dims.B;
  let valid = t < lengths[b];
  let e = ((d * dims.T + t) * B + b) * H + j;    // (d, t, b, j)
  let eo = ((d * dims.T + t) * B + b) * dims.H_out;  // (d, t, b, ·) of an H_out-wide tensor
  let dh = dh_plus_out(rec_j, d, b, t, j, valid);
  if (j < dims.H_out) {
    dg[dims.dh_hist + eo + j] = select(0.0, dh, valid);
    if (!valid) { gstate[direct_index(d, b, j)] = dh; }  // passed through to h_{t−1} unchanged
  }
  if (!valid) {
    store4(dims.dg_x, e, vec4<f32>(0.0));
    if (MODE == MODE_GRU) { store4(dims.dg_h, e, vec4<f32>(0.0)); }
    return;
  }
  let pre = vec4<f32>(saved[dims.pre + 4u * e], saved[dims.pre + 4u * e + 1u], saved[dims.pre + 4u * e + 2u], saved[dims.pre + 4u * e + 3u]);
  switch MODE {
    case MODE_LSTM: {
      // The gradient reaching o·tanh(c): dh itself, or W_hrᵀ·dh with projection.
      var dh_raw = dh;
      if (HAS_PROJ) {
        dh_raw = 0.0;
        for (var p = 0u; p < dims.H_out; p++) { dh_raw = fma(w_hr_at((d * dims.H_out + p) * H + j), dh_total(d, b, t, p, true), dh_raw); }
      }
      let i = sigmoid(pre.x);
      let f = sigmoid(pre.y);
      let g = tanh_safe(pre.z);
      let o = sigmoid(pre.w);
      let c = saved[dims.c + e];
      let tc = tanh_safe(c);
      let dc = gstate[dc_index(d, b, j)] + dh_raw * o * (1.0 - tc * tc);
      let c_prev = saved[dims.c_prev + e];
      store4(dims.dg_x, e, vec4<f32>(dc * g * i * (1.0 - i), dc * c_prev * f * (1.0 - f), dc * i * (1.0 - g * g), dh_raw * tc * o * (1.0 - o)));
      gstate[dc_index(d, b, j)] = dc * f;
      if (j < dims.H_out) { gstate[direct_index(d, b, j)] = 0.0; }
    }
    case MODE_GRU: {
      let r = sigmoid(pre.x);
      let z = sigmoid(pre.y);
      let n = tanh_safe(fma(r, pre.w, pre.z));  // pre.z = W_in·x + b_in, pre.w = W_hn·h + b_hn
      let h_prev = saved[dims.h_prev + eo + j];
      let dpre_n = dh * (1.0 - z) * (1.0 - n * n);
      let dr = dpre_n * pre.w * r * (1.0 - r);
      let dz = dh * (h_prev - n) * z * (1.0 - z);
      store4(dims.dg_x, e, vec4<f32>(dr, dz, dpre_n, 0.0));
      store4(dims.dg_h, e, vec4<f32>(dr, dz, dpre_n * r, 0.0));
      gstate[direct_index(d, b, j)] = dh * z;
    }
    case MODE_RNN_RELU: {
      store4(dims.dg_x, e, vec4<f32>(select(0.0, dh, pre.x > 0.0), 0.0, 0.0, 0.0));
      gstate[direct_index(d, b, j)] = 0.0;
    }
    default: {  // MODE_RNN_TANH
      let h = tanh_safe(pre.x);
      store4(dims.dg_x, e, vec4<f32>(dh * (1.0 - h * h), 0.0, 0.0, 0.0));
      gstate[direct_index(d, b, j)] = 0.0;
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn cell_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let d = gid.y / dims.B;
  let b = gid.y % dims.B;
  if (j >= dims.H || d >= dims.D) { return; }
  let t = time_at(d, step_index.s);
  // Units past H_out (projection) have no dh of their own: the LSTM case sums W_hrᵀ·dh instead.
  let rec = select(0.0, gstate[dh_rec_index(step_index.s % 2u, d, b, min(j, dims.H_out - 1u))], j < dims.H_out);
  cell(d, b, t, j, rec);
}

const MAX_BLOCK_B = 8u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn fused_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let H = dims.H;
  let B = dims.B;
  let j = gid.x;
  let blocks = (B + BLOCK_B - 1u) / BLOCK_B;
  let d = gid.y / blocks;
  let b0 = (gid.y % blocks) * BLOCK_B;
  if (j >= H || d >= dims.D) { return; }
  let s = step_index.s;
  var rec: array<f32, MAX_BLOCK_B>;
  if (s == dims.T - 1u) {
    for (var r = 0u; r < BLOCK_B; r++) {
      if (b0 + r < B) { rec[r] = gstate[dh_rec_index(s % 2u, d, b0 + r, j)]; }
    }
  } else {
    // dh_rec = W_hhᵀ·dg_h of the step processed before this one (forward step s + 1; for the extra
    // dispatch, step 0), plus direct.
    let dg_h = select(dims.dg_x, dims.dg_h, MODE == MODE_GRU);
    let t_prev = time_at(d, select(s + 1u, 0u, s == dims.T));
    let w0 = dims.w_hh_offset + (d * H + j) * H;
    for (var k = 0u; k < H; k++) {
      let w = param4(w0 + k);
      for (var r = 0u; r < BLOCK_B; r++) {
        let row = min(b0 + r, B - 1u);
        let g = 4u * (((d * dims.T + t_prev) * B + row) * H + k);
        rec[r] = fma(w.x, dg[dg_h + g], fma(w.y, dg[dg_h + g + 1u], fma(w.z, dg[dg_h + g + 2u], fma(w.w, dg[dg_h + g + 3u], rec[r]))));
      }
    }
    for (var r = 0u; r < BLOCK_B; r++) {
      if (b0 + r < B) { rec[r] += gstate[direct_index(d, b0 + r, j)]; }
    }
  }
  if (s == dims.T) {  // the extra dispatch: dL/dh0 into copy 1, as the per-step path leaves it
    for (var r = 0u; r < BLOCK_B; r++) {
      if (b0 + r < B) { gstate[dh_rec_index(1u, d, b0 + r, j)] = rec[r]; }
    }
    return;
  }
  let t = time_at(d, s);
  for (var r = 0u; r < BLOCK_B; r++) {
    if (b0 + r < B) { cell(d, b0 + r, t, j, rec[r]); }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn hidden_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let H = dims.H;
  let B = dims.B;
  let K = dims.H_out;
  let k = gid.x;
  let d = gid.y / B;
  let b = gid.y % B;
  if (k >= K || d >= dims.D) { return; }
  let t = time_at(d, step_index.s);
  let dg_h = select(dims.dg_x, dims.dg_h, MODE == MODE_GRU);
  let row = ((d * dims.T + t) * B + b) * H;  // dg_h at (d, t, b, 0)
  var acc = 0.0;
  var w = dims.w_hh_offset + (d * K + k) * H;
  for (var j = 0u; j < H; j++) {
    let g = vec4<f32>(dg[dg_h + 4u * (row + j)], dg[dg_h + 4u * (row + j) + 1u], dg[dg_h + 4u * (row + j) + 2u], dg[dg_h + 4u * (row + j) + 3u]);
    acc += dot(param4(w), g);
    w += 1u;
  }
  gstate[dh_rec_index((step_index.s + 1u) % 2u, d, b, k)] = acc + gstate[direct_index(d, b, k)];
}
