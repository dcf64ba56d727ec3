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
// Then the host's GEMM of the step, Σ_j W_hh[k, j] · dg_h[d, t, b, j] (gate lanes dotted) for every
// (d, b, k), and entry `hidden_finish` — invocation (k of H_out, row b, direction d):
//   dh_rec'[d, b, k] = that sum · recurrent dropout's scale + direct[d, b, k].
// Entry `fused_backward` — the same two halves in one dispatch per step, without projection (then
// H_out = H and the unit j that the cell half needs is the k the hidden half computes): invocation
// (unit j, block of BLOCK_B rows, direction d) first takes dh_rec[j] of its rows from the previous
// dispatch's dg_h (Σ_j' W_hh[j, j']·dg_h[t_prev, j'] + direct — each W_hh vec4 loaded once for the
// block's rows), then runs the cell half with it. The step s = T−1 (the first) takes dh_rec from
// gstate (the head's gradient of h_n, or 0); an extra dispatch with s = T runs the hidden half alone
// and leaves dL/dh0 in gstate's dh_rec copy 1, where the per-step path leaves it.
// Entry `persistent_backward` — the fused steps T−1 … 0 and the last, all in one dispatch: one
// workgroup per (direction, block of rows) loops over them with a storage barrier between steps.
// Entry `persistent_backward_cached` — the same for software adapters, W_hh in registers (below).
//
// `saved` holds what the training forward kept (recurrent-step.wgsl's SAVE): the pre-activations
// (D, T, B, H, 4), c_t (D, T, B, H), h_raw (D, T, B, H); and what the shift kernel (shift.wgsl) made
// from them: h_{t−1} (D, T, B, H_out) and c_{t−1} (D, T, B, H) as each step saw them. `gstate`: dh_rec
// double-buffered (D, B, H_out) ×2 — step s reads copy s % 2, writes the other — then dc (D, B, H), then
// direct (D, B, H_out). `dg`: dg_x (D, T, B, H, 4), dg_h (same; GRU), dh_hist (D, T, B, H_out). Offsets
// (floats) come in `dims`. Weights: the layer's packed W_hh in `params` (absolute vec4 offset), W_hr as
// plain elements of the same buffer.

override MODE: u32 = MODE_LSTM;
override HAS_PROJ: bool = false;
override WORKGROUP_SIZE: u32 = 64u;
override BLOCK_B: u32 = 1u;  // fused_backward: batch rows per invocation (1, 2, 4 or 8)
// Recurrent dropout: the forward's W_hh saw scale·h_{t−1} (the scales (D, B, H_out) in `saved` at
// dims.mask), so the part of dL/dh_{t−1} that comes through W_hh is scaled by them too; the part that
// bypassed W_hh (`direct`) is not.
override RECURRENT_MASK: bool = false;

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
  mask: u32,          // float offset in `saved` of recurrent dropout's scales (RECURRENT_MASK)
  w_t: u32,           // float offset in `gstate` of the per-step path's W_hhᵀ·dg_h (and of w_regrouped's range)
  _pad1: u32,
  _pad2: u32,
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
// The regrouped W_hh of persistent_backward_blocked4, as vec4s (regroup_w_hh writes it): gstate's
// range from dims.w_t, bound apart so that each of the loop's weight loads is one vec4 load, and
// regroup_w_hh one vec4 store (measured against four float loads: a few percent, much of it in
// regroup_w_hh; the README's benchmark notes); a placeholder for the other paths.
@group(0) @binding(7) var<storage, read_write> w_regrouped: array<vec4<f32>>;
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

// Recurrent dropout's scale of h_{t−1}[k] of (d, b); 1 without it.
fn recurrent_scale(d: u32, b: u32, k: u32) -> f32 {
  if (RECURRENT_MASK) { return saved[dims.mask + (d * dims.B + b) * dims.H_out + k]; }
  return 1.0;
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

// The same with the recurrent part from gstate (the per-step path: hidden_finish wrote it).
fn dh_total(d: u32, b: u32, t: u32, k: u32, valid: bool) -> f32 {
  return dh_plus_out(gstate[dh_rec_index(step_index.s % 2u, d, b, k)], d, b, t, k, valid);
}

// The cached kind (persistent_backward_cached; the host sets it there only): each invocation owns one
// (direction, row, unit) for the whole loop, so that unit's dL/dc (LSTM) and the part of dL/dh_{t−1}
// that bypasses W_hh (`direct`) stay in registers between steps instead of a gstate read and write
// each (dc is loaded before the loop and stored after it; `direct` is written before it is read, each
// step). Measured on SwiftShader in Node, the long shape's training step (LSTM 64, B = 1, T = 1,000),
// gstate / registers, interleaved, 13 rounds, two runs: 159.6 / 138.3 and 177.2 / 167.8 ms.
override STATE_IN_REGISTERS: bool = false;
var<private> unit_dc: f32;
var<private> unit_direct: f32;

// The value of gstate[i] as the cell sees it — or of `unit`, its register (unit_dc, unit_direct) — and
// its update.
fn unit_state(unit: ptr<private, f32>, i: u32) -> f32 {
  if (STATE_IN_REGISTERS) { return *unit; }
  return gstate[i];
}

fn set_unit_state(unit: ptr<private, f32>, i: u32, v: f32) {
  if (STATE_IN_REGISTERS) {
    *unit = v;
  } else {
    gstate[i] = v;
  }
}

fn store4(base: u32, e: u32, v: vec4<f32>) {
  dg[base + 4u * e] = v.x;
  dg[base + 4u * e + 1u] = v.y;
  dg[base + 4u * e + 2u] = v.z;
  dg[base + 4u * e + 3u] = v.w;
}

// The cell half for (unit j, row b, direction d) at time t; `rec_j` is dh_rec of unit j (HAS_PROJ reads
// every unit's from gstate instead). Returns the dg_h it stored (dg_x for all but GRU), which the
// persistent paths keep in workgroup memory for the next step instead of reading it back.
fn cell(d: u32, b: u32, t: u32, j: u32, rec_j: f32) -> vec4<f32> {
  let H = dims.H;
  let B = dims.B;
  let valid = t < lengths[b];
  let e = ((d * dims.T + t) * B + b) * H + j;    // (d, t, b, j)
  let eo = ((d * dims.T + t) * B + b) * dims.H_out;  // (d, t, b, ·) of an H_out-wide tensor
  let dh = dh_plus_out(rec_j, d, b, t, j, valid);
  if (j < dims.H_out) {
    dg[dims.dh_hist + eo + j] = select(0.0, dh, valid);
    if (!valid) { set_unit_state(&unit_direct, direct_index(d, b, j), dh); }  // passed through to h_{t−1} unchanged
  }
  if (!valid) {
    store4(dims.dg_x, e, vec4<f32>(0.0));
    if (MODE == MODE_GRU) { store4(dims.dg_h, e, vec4<f32>(0.0)); }
    return vec4<f32>(0.0);
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
      let dc = unit_state(&unit_dc, dc_index(d, b, j)) + dh_raw * o * (1.0 - tc * tc);
      let c_prev = saved[dims.c_prev + e];
      let dg = vec4<f32>(dc * g * i * (1.0 - i), dc * c_prev * f * (1.0 - f), dc * i * (1.0 - g * g), dh_raw * tc * o * (1.0 - o));
      store4(dims.dg_x, e, dg);
      set_unit_state(&unit_dc, dc_index(d, b, j), dc * f);
      if (j < dims.H_out) { set_unit_state(&unit_direct, direct_index(d, b, j), 0.0); }
      return dg;
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
      let dg_h = vec4<f32>(dr, dz, dpre_n * r, 0.0);
      store4(dims.dg_h, e, dg_h);
      set_unit_state(&unit_direct, direct_index(d, b, j), dh * z);
      return dg_h;
    }
    case MODE_RNN_RELU: {
      let dg = vec4<f32>(select(0.0, dh, pre.x > 0.0), 0.0, 0.0, 0.0);
      store4(dims.dg_x, e, dg);
      set_unit_state(&unit_direct, direct_index(d, b, j), 0.0);
      return dg;
    }
    default: {  // MODE_RNN_TANH
      let h = tanh_safe(pre.x);
      let dg = vec4<f32>(dh * (1.0 - h * h), 0.0, 0.0, 0.0);
      store4(dims.dg_x, e, dg);
      set_unit_state(&unit_direct, direct_index(d, b, j), 0.0);
      return dg;
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

// The per-step path's second half, after its GEMM left W_hhᵀ·dg_h of this step for every (d, b, k) in
// gstate from dims.w_t ((D, B, H_out)): dL/dh_{t−1}, scaled by recurrent dropout's mask, plus the part
// that bypassed W_hh, into the dh copy the next step reads.
@compute @workgroup_size(WORKGROUP_SIZE)
fn hidden_finish(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  let d = gid.y / dims.B;
  let b = gid.y % dims.B;
  if (k >= dims.H_out || d >= dims.D) { return; }
  let through = gstate[dims.w_t + (d * dims.B + b) * dims.H_out + k];
  gstate[dh_rec_index((step_index.s + 1u) % 2u, d, b, k)] = through * recurrent_scale(d, b, k) + gstate[direct_index(d, b, k)];
}

const MAX_BLOCK_B = 8u;

// dL/dh_t of unit j (its recurrent part) for the block's rows b0 … b0 + BLOCK_B − 1 at the step `s`
// (0 … T−1, or T: after the last): the head's gradient from gstate at s = T−1, else W_hhᵀ·dg_h of the
// step processed before (forward step s + 1, or 0 after the last) plus the part that bypassed W_hh.
// Each W_hh vec4 is loaded once for all the block's rows.
fn recurrent_dh(d: u32, s: u32, j: u32, b0: u32) -> array<f32, MAX_BLOCK_B> {
  let H = dims.H;
  let B = dims.B;
  var rec: array<f32, MAX_BLOCK_B>;
  if (s == dims.T - 1u) {
    for (var r = 0u; r < BLOCK_B; r++) {
      if (b0 + r < B) { rec[r] = gstate[dh_rec_index(s % 2u, d, b0 + r, j)]; }
    }
    return rec;
  }
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
    if (b0 + r < B) { rec[r] = rec[r] * recurrent_scale(d, b0 + r, j) + gstate[direct_index(d, b0 + r, j)]; }
  }
  return rec;
}

// Step s of unit j for the block's rows: its dh, then the cell half (s < T), or dL/dh0 into gstate's
// dh_rec copy 1 (s = T), where the per-step path leaves it.
fn backward_unit(d: u32, s: u32, j: u32, b0: u32) {
  let rec = recurrent_dh(d, s, j, b0);
  for (var r = 0u; r < BLOCK_B; r++) {
    if (b0 + r >= dims.B) { break; }
    if (s == dims.T) {
      gstate[dh_rec_index(1u, d, b0 + r, j)] = rec[r];
    } else {
      cell(d, b0 + r, time_at(d, s), j, rec[r]);
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn fused_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let blocks = (dims.B + BLOCK_B - 1u) / BLOCK_B;
  let d = gid.y / blocks;
  if (gid.x >= dims.H || d >= dims.D) { return; }
  backward_unit(d, step_index.s, gid.x, (gid.y % blocks) * BLOCK_B);
}

// The whole reverse time loop in one dispatch: one workgroup per (direction, block of rows), its
// invocations the units (in passes of the workgroup's width), a storage barrier between steps so that
// each step's dg_h, written by every unit, is complete before the next step reads it. Step s reads
// dg_h of step s + 1 and writes that of step s (different slices), so one barrier a step suffices.
@compute @workgroup_size(WORKGROUP_SIZE)
fn persistent_backward(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let blocks = (dims.B + BLOCK_B - 1u) / BLOCK_B;
  let d = wid.x / blocks;
  let b0 = (wid.x % blocks) * BLOCK_B;
  for (var i = 0u; i <= dims.T; i++) {
    let s = select(dims.T - 1u - i, dims.T, i == dims.T);
    for (var j0 = 0u; j0 < dims.H; j0 += WORKGROUP_SIZE) {
      if (j0 + lid < dims.H && d < dims.D) { backward_unit(d, s, j0 + lid, b0); }
    }
    storageBarrier();
  }
}

// The cached persistent path (software adapters): one batch row per workgroup, every unit one
// invocation (WORKGROUP_SIZE ≥ H = CACHE_H ≤ 128, a multiple of 32), its row of W_hh (with subgroups,
// its quad's rows split by input) in private memory for the whole dispatch, and the previous step's
// dg_h of the row in workgroup memory (double-buffered: read one half, write the other, one barrier a
// step). dL/dh_t of unit j is then Σ_k W_hh[j, k]·dg_h[k] from registers and workgroup loads instead
// of buffer reads — what makes the forward's persistent kernel fast on software adapters
// (recurrent-persistent.wgsl's cached_dot), here for the reverse loop.
override CACHE_H: u32 = 0u;
const CACHE_MAX_H = 128u;
// This invocation's share of W_hh (load_w_rows), four gate vec4s to a matrix. With subgroups, its
// quad's: column r of w_rows[m] is the gate vec4 of input 4m + q for the quad's unit r, q being this
// invocation's place in the quad (zero past H). Without: its own unit's row, column c of w_rows[m]
// the gate vec4 of input 4m + c.
var<private> w_rows: array<mat4x4<f32>, CACHE_MAX_H / 4u>;
// The row's dg_h, double-buffered: sized by CACHE_H, not its maximum, since a longer workgroup array
// takes longer to build (workgroupArrayLength in src/gpu/program.ts).
var<workgroup> dgs: array<vec4<f32>, 2u * max(CACHE_H, 1u)>;

// Loads w_rows (above) for unit j of direction d; `lane` as subgroup_lane gives it. In uniform control
// flow, every invocation of the workgroup (those past H on a clamped unit).
fn load_w_rows(d: u32, j: u32, lane: u32) {
  let H = dims.H;
  if (SUBGROUPS) {
    let units = quad_u32(j);
    let q = lane % 4u;
    for (var m = 0u; m < (CACHE_H + 3u) / 4u; m++) {
      let k = 4u * m + q;
      for (var r = 0u; r < 4u; r++) {
        w_rows[m][r] = select(vec4<f32>(0.0), param4(dims.w_hh_offset + (d * H + units[r]) * H + min(k, H - 1u)), k < H);
      }
    }
  } else {
    for (var k = 0u; k < CACHE_H; k++) { w_rows[k / 4u][k % 4u] = param4(dims.w_hh_offset + (d * H + j) * H + k); }
  }
}

// dL/dh_t of this invocation's unit before scaling: Σ_k dot(W_hh[j, k], dg_h[k]) over every input k,
// with dg_h at `base` in workgroup memory (every unit of the workgroup reads all of it). In uniform
// control flow, as load_w_rows.
//
// With subgroups the quad's four invocations split the inputs instead of each taking them all:
// invocation q takes inputs k ≡ q (mod 4) for all four of the quad's units, so each dg_h vec4 it loads
// is its own (no broadcast) and serves four FMAs, and one sum across the quad (quad_sum) gives each
// unit its total. Broadcasting every input's dg_h to the whole quad — a vec4 per input, where the
// forward's h_quad shares a scalar — had cost more than the loads it saved: measured on SwiftShader in
// Node, the long shape's training step (LSTM 64, B = 1, T = 1,000), interleaved, 11 rounds, two runs:
// broadcast 214.9 / 190.9 ms, split 190.2 / 165.9 (without this dot at all: 141.9). Before the
// broadcast, a dg_h load per FMA: 203.0 against the broadcast's 177.7, 13 rounds.
// Line m: `if (CACHE_H > 4m) { acc = back_units(w_rows[m], dgs[min(base + 4m + q, last)], acc); }`
// (test/structure/wgsl.test.ts checks the pattern): constant indices into private memory, as in
// cached_dot; inputs past H read the last one against zero weights.
//
// Without subgroups each invocation takes every input of its own unit. Line m: `if (CACHE_H >= 4(m+1))
// { a = back_quad(w_rows[m], base + 4m, a); }`, then the inputs past the last whole quad.
fn cached_back_dot(base: u32, lane: u32) -> f32 {
  if (SUBGROUPS) {
    let last = base + CACHE_H - 1u;
    let q = lane % 4u;
    var acc = mat4x4<f32>();  // column r: unit r of the quad
    if (CACHE_H > 0u) { acc = back_units(w_rows[0], dgs[min(base + q, last)], acc); }
    if (CACHE_H > 4u) { acc = back_units(w_rows[1], dgs[min(base + 4u + q, last)], acc); }
    if (CACHE_H > 8u) { acc = back_units(w_rows[2], dgs[min(base + 8u + q, last)], acc); }
    if (CACHE_H > 12u) { acc = back_units(w_rows[3], dgs[min(base + 12u + q, last)], acc); }
    if (CACHE_H > 16u) { acc = back_units(w_rows[4], dgs[min(base + 16u + q, last)], acc); }
    if (CACHE_H > 20u) { acc = back_units(w_rows[5], dgs[min(base + 20u + q, last)], acc); }
    if (CACHE_H > 24u) { acc = back_units(w_rows[6], dgs[min(base + 24u + q, last)], acc); }
    if (CACHE_H > 28u) { acc = back_units(w_rows[7], dgs[min(base + 28u + q, last)], acc); }
    if (CACHE_H > 32u) { acc = back_units(w_rows[8], dgs[min(base + 32u + q, last)], acc); }
    if (CACHE_H > 36u) { acc = back_units(w_rows[9], dgs[min(base + 36u + q, last)], acc); }
    if (CACHE_H > 40u) { acc = back_units(w_rows[10], dgs[min(base + 40u + q, last)], acc); }
    if (CACHE_H > 44u) { acc = back_units(w_rows[11], dgs[min(base + 44u + q, last)], acc); }
    if (CACHE_H > 48u) { acc = back_units(w_rows[12], dgs[min(base + 48u + q, last)], acc); }
    if (CACHE_H > 52u) { acc = back_units(w_rows[13], dgs[min(base + 52u + q, last)], acc); }
    if (CACHE_H > 56u) { acc = back_units(w_rows[14], dgs[min(base + 56u + q, last)], acc); }
    if (CACHE_H > 60u) { acc = back_units(w_rows[15], dgs[min(base + 60u + q, last)], acc); }
    if (CACHE_H > 64u) { acc = back_units(w_rows[16], dgs[min(base + 64u + q, last)], acc); }
    if (CACHE_H > 68u) { acc = back_units(w_rows[17], dgs[min(base + 68u + q, last)], acc); }
    if (CACHE_H > 72u) { acc = back_units(w_rows[18], dgs[min(base + 72u + q, last)], acc); }
    if (CACHE_H > 76u) { acc = back_units(w_rows[19], dgs[min(base + 76u + q, last)], acc); }
    if (CACHE_H > 80u) { acc = back_units(w_rows[20], dgs[min(base + 80u + q, last)], acc); }
    if (CACHE_H > 84u) { acc = back_units(w_rows[21], dgs[min(base + 84u + q, last)], acc); }
    if (CACHE_H > 88u) { acc = back_units(w_rows[22], dgs[min(base + 88u + q, last)], acc); }
    if (CACHE_H > 92u) { acc = back_units(w_rows[23], dgs[min(base + 92u + q, last)], acc); }
    if (CACHE_H > 96u) { acc = back_units(w_rows[24], dgs[min(base + 96u + q, last)], acc); }
    if (CACHE_H > 100u) { acc = back_units(w_rows[25], dgs[min(base + 100u + q, last)], acc); }
    if (CACHE_H > 104u) { acc = back_units(w_rows[26], dgs[min(base + 104u + q, last)], acc); }
    if (CACHE_H > 108u) { acc = back_units(w_rows[27], dgs[min(base + 108u + q, last)], acc); }
    if (CACHE_H > 112u) { acc = back_units(w_rows[28], dgs[min(base + 112u + q, last)], acc); }
    if (CACHE_H > 116u) { acc = back_units(w_rows[29], dgs[min(base + 116u + q, last)], acc); }
    if (CACHE_H > 120u) { acc = back_units(w_rows[30], dgs[min(base + 120u + q, last)], acc); }
    if (CACHE_H > 124u) { acc = back_units(w_rows[31], dgs[min(base + 124u + q, last)], acc); }
    let one = vec4<f32>(1.0);
    return quad_sum(vec4<f32>(dot(acc[0], one), dot(acc[1], one), dot(acc[2], one), dot(acc[3], one)))[q];
  }
  var a = vec4<f32>(0.0);
  if (CACHE_H >= 4u) { a = back_quad(w_rows[0], base, a); }
  if (CACHE_H >= 8u) { a = back_quad(w_rows[1], base + 4u, a); }
  if (CACHE_H >= 12u) { a = back_quad(w_rows[2], base + 8u, a); }
  if (CACHE_H >= 16u) { a = back_quad(w_rows[3], base + 12u, a); }
  if (CACHE_H >= 20u) { a = back_quad(w_rows[4], base + 16u, a); }
  if (CACHE_H >= 24u) { a = back_quad(w_rows[5], base + 20u, a); }
  if (CACHE_H >= 28u) { a = back_quad(w_rows[6], base + 24u, a); }
  if (CACHE_H >= 32u) { a = back_quad(w_rows[7], base + 28u, a); }
  if (CACHE_H >= 36u) { a = back_quad(w_rows[8], base + 32u, a); }
  if (CACHE_H >= 40u) { a = back_quad(w_rows[9], base + 36u, a); }
  if (CACHE_H >= 44u) { a = back_quad(w_rows[10], base + 40u, a); }
  if (CACHE_H >= 48u) { a = back_quad(w_rows[11], base + 44u, a); }
  if (CACHE_H >= 52u) { a = back_quad(w_rows[12], base + 48u, a); }
  if (CACHE_H >= 56u) { a = back_quad(w_rows[13], base + 52u, a); }
  if (CACHE_H >= 60u) { a = back_quad(w_rows[14], base + 56u, a); }
  if (CACHE_H >= 64u) { a = back_quad(w_rows[15], base + 60u, a); }
  if (CACHE_H >= 68u) { a = back_quad(w_rows[16], base + 64u, a); }
  if (CACHE_H >= 72u) { a = back_quad(w_rows[17], base + 68u, a); }
  if (CACHE_H >= 76u) { a = back_quad(w_rows[18], base + 72u, a); }
  if (CACHE_H >= 80u) { a = back_quad(w_rows[19], base + 76u, a); }
  if (CACHE_H >= 84u) { a = back_quad(w_rows[20], base + 80u, a); }
  if (CACHE_H >= 88u) { a = back_quad(w_rows[21], base + 84u, a); }
  if (CACHE_H >= 92u) { a = back_quad(w_rows[22], base + 88u, a); }
  if (CACHE_H >= 96u) { a = back_quad(w_rows[23], base + 92u, a); }
  if (CACHE_H >= 100u) { a = back_quad(w_rows[24], base + 96u, a); }
  if (CACHE_H >= 104u) { a = back_quad(w_rows[25], base + 100u, a); }
  if (CACHE_H >= 108u) { a = back_quad(w_rows[26], base + 104u, a); }
  if (CACHE_H >= 112u) { a = back_quad(w_rows[27], base + 108u, a); }
  if (CACHE_H >= 116u) { a = back_quad(w_rows[28], base + 112u, a); }
  if (CACHE_H >= 120u) { a = back_quad(w_rows[29], base + 116u, a); }
  if (CACHE_H >= 124u) { a = back_quad(w_rows[30], base + 120u, a); }
  if (CACHE_H >= 128u) { a = back_quad(w_rows[31], base + 124u, a); }
  for (var k = CACHE_H & ~3u; k < CACHE_H; k++) { a = fma(w_rows[k / 4u][k % 4u], dgs[base + k], a); }
  return a.x + a.y + a.z + a.w;
}

// `acc` plus, for each of the quad's units r (column r), this invocation's input's gate vec4 w[r] times
// that input's dg_h `x` (cached_back_dot with subgroups).
fn back_units(w: mat4x4<f32>, x: vec4<f32>, acc: mat4x4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(fma(w[0], x, acc[0]), fma(w[1], x, acc[1]), fma(w[2], x, acc[2]), fma(w[3], x, acc[3]));
}

// `a` plus the four inputs' products in `w` (a gate vec4 each) and their dg_h at i … i + 3
// (cached_back_dot without subgroups).
fn back_quad(w: mat4x4<f32>, i: u32, a: vec4<f32>) -> vec4<f32> {
  return a + (w[0] * dgs[i] + w[1] * dgs[i + 1u] + w[2] * dgs[i + 2u] + w[3] * dgs[i + 3u]);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn persistent_backward_cached(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let lane = subgroup_lane();
  let H = dims.H;
  let d = wid.x / dims.B;
  let b = wid.x % dims.B;
  let j = min(lid, H - 1u);
  load_w_rows(d, j, lane);
  if (STATE_IN_REGISTERS && MODE == MODE_LSTM) { unit_dc = gstate[dc_index(d, b, j)]; }
  for (var i = 0u; i <= dims.T; i++) {
    let s = select(dims.T - 1u - i, dims.T, i == dims.T);
    let cur = (i % 2u) * CACHE_H;  // the previous step's dg_h here …
    let nxt = CACHE_H - cur;      // … this step's there
    var rec: f32;
    if (i == 0u) {
      rec = gstate[dh_rec_index(s % 2u, d, b, j)];
    } else {
      rec = cached_back_dot(cur, lane) * recurrent_scale(d, b, j) + unit_state(&unit_direct, direct_index(d, b, j));
    }
    if (lid < H && d < dims.D) {
      if (s == dims.T) {
        gstate[dh_rec_index(1u, d, b, j)] = rec;
      } else {
        dgs[nxt + j] = cell(d, b, time_at(d, s), j, rec);
      }
    }
    workgroupBarrier();
  }
  if (STATE_IN_REGISTERS && MODE == MODE_LSTM && lid < H && d < dims.D) { gstate[dc_index(d, b, j)] = unit_dc; }  // dL/dc_0
}

// The blocked persistent path (software adapters, batches of several rows): a narrow workgroup owns a
// block of BLOCK_B rows of one direction, its invocations the units in passes of the workgroup's width,
// and the previous step's dg_h of the block's rows sits in workgroup memory (double-buffered, one
// barrier a step), so each W_hh vec4 is loaded once for all the block's rows — the forward's persistent
// layout on software adapters (recurrent-persistent.wgsl), mirrored. With subgroups the workgroup
// loads of dg_h are shared too: each invocation of a subgroup loads one input's vec4 and broadcasts it,
// as the forward's h_quad does. Measured against the cached variant on SwiftShader: see
// softwareBackwardLayout (src/gpu/ops/backward.ts).
// vec4 of workgroup memory: at least 2·BLOCK_B·H, at most 1,024 (16 KiB; the host checks it fits and
// sizes it to the shape, see workgroupArrayLength in src/gpu/program.ts).
override BLOCKED_VEC4: u32 = 1024u;
var<workgroup> dgb: array<vec4<f32>, BLOCKED_VEC4>;

// Row r (batch row b) of the block at loop index i (step s): its dL/dh of unit j — the head's from
// gstate at the first, else W_hhᵀ·dg_h of the step before (`acc`, lanes summed), scaled by recurrent
// dropout's mask, plus what bypassed W_hh — then the cell half, keeping this step's dg_h for the next.
fn blocked_row(d: u32, s: u32, i: u32, j: u32, b: u32, r: u32, acc: vec4<f32>, nxt: u32) {
  var rec: f32;
  if (i == 0u) {
    rec = gstate[dh_rec_index(s % 2u, d, b, j)];
  } else {
    rec = (acc.x + acc.y + acc.z + acc.w) * recurrent_scale(d, b, j) + gstate[direct_index(d, b, j)];
  }
  if (s == dims.T) {
    gstate[dh_rec_index(1u, d, b, j)] = rec;
    return;
  }
  dgb[nxt + r * dims.H + j] = cell(d, b, time_at(d, s), j, rec);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn persistent_backward_blocked(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let lane = subgroup_lane();
  let H = dims.H;
  let blocks = (dims.B + BLOCK_B - 1u) / BLOCK_B;
  let d = wid.x / blocks;
  let b0 = (wid.x % blocks) * BLOCK_B;
  let rows = min(BLOCK_B, dims.B - b0);
  let half = BLOCK_B * H;  // one buffer: the block's rows × H vec4
  // Row r's dg_h in a buffer; rows past the block re-read the last one (never stored).
  let o1 = min(1u, rows - 1u) * H;
  let o2 = min(2u, rows - 1u) * H;
  let o3 = min(3u, rows - 1u) * H;
  let o4 = min(4u, rows - 1u) * H;
  let o5 = min(5u, rows - 1u) * H;
  let o6 = min(6u, rows - 1u) * H;
  let o7 = min(7u, rows - 1u) * H;
  for (var i = 0u; i <= dims.T; i++) {
    let s = select(dims.T - 1u - i, dims.T, i == dims.T);
    let cur = (i % 2u) * half;  // the previous step's dg_h here …
    let nxt = half - cur;       // … this step's there
    for (var j0 = 0u; j0 < H; j0 += WORKGROUP_SIZE) {
      // In uniform control flow (the subgroup broadcasts need it): an invocation past H computes on a
      // clamped unit and stores nothing.
      let j = min(j0 + lid, H - 1u);
      // Separate accumulators (not an array): they stay in registers; unused ones compile away.
      var a0 = vec4<f32>(0.0);
      var a1 = vec4<f32>(0.0);
      var a2 = vec4<f32>(0.0);
      var a3 = vec4<f32>(0.0);
      var a4 = vec4<f32>(0.0);
      var a5 = vec4<f32>(0.0);
      var a6 = vec4<f32>(0.0);
      var a7 = vec4<f32>(0.0);
      if (i > 0u) {
        var w = dims.w_hh_offset + (d * H + j) * H;
        var k = 0u;
        if (SUBGROUPS) {
          // Four k per pass: invocation q of each subgroup loads dg_h of input k + q (each row's) and
          // broadcasts it — one workgroup load per four vec4 FMAs instead of one per FMA, the forward's
          // h_quad for vectors (every unit of the workgroup reads the same dg_h).
          let q = lane % 4u;
          for (; k + 4u <= H; k += 4u) {
            let w0 = param4(w);
            let w1 = param4(w + 1u);
            let w2 = param4(w + 2u);
            let w3 = param4(w + 3u);
            w += 4u;
            let g = cur + k + q;
            a0 = fma_lanes(w0, w1, w2, w3, lane_values(dgb[g]), a0);
            if (BLOCK_B > 1u) { a1 = fma_lanes(w0, w1, w2, w3, lane_values(dgb[g + o1]), a1); }
            if (BLOCK_B > 2u) {
              a2 = fma_lanes(w0, w1, w2, w3, lane_values(dgb[g + o2]), a2);
              a3 = fma_lanes(w0, w1, w2, w3, lane_values(dgb[g + o3]), a3);
            }
            if (BLOCK_B > 4u) {
              a4 = fma_lanes(w0, w1, w2, w3, lane_values(dgb[g + o4]), a4);
              a5 = fma_lanes(w0, w1, w2, w3, lane_values(dgb[g + o5]), a5);
              a6 = fma_lanes(w0, w1, w2, w3, lane_values(dgb[g + o6]), a6);
              a7 = fma_lanes(w0, w1, w2, w3, lane_values(dgb[g + o7]), a7);
            }
          }
        }
        for (; k < H; k++) {  // without subgroups, and the remainder of H
          let wk = param4(w);
          w += 1u;
          let g = cur + k;
          a0 = fma(wk, dgb[g], a0);
          if (BLOCK_B > 1u) { a1 = fma(wk, dgb[g + o1], a1); }
          if (BLOCK_B > 2u) {
            a2 = fma(wk, dgb[g + o2], a2);
            a3 = fma(wk, dgb[g + o3], a3);
          }
          if (BLOCK_B > 4u) {
            a4 = fma(wk, dgb[g + o4], a4);
            a5 = fma(wk, dgb[g + o5], a5);
            a6 = fma(wk, dgb[g + o6], a6);
            a7 = fma(wk, dgb[g + o7], a7);
          }
        }
      }
      if (j0 + lid < H && d < dims.D) {
        blocked_row(d, s, i, j, b0, 0u, a0, nxt);
        if (BLOCK_B > 1u && rows > 1u) { blocked_row(d, s, i, j, b0 + 1u, 1u, a1, nxt); }
        if (BLOCK_B > 2u && rows > 2u) { blocked_row(d, s, i, j, b0 + 2u, 2u, a2, nxt); }
        if (BLOCK_B > 3u && rows > 3u) { blocked_row(d, s, i, j, b0 + 3u, 3u, a3, nxt); }
        if (BLOCK_B > 4u && rows > 4u) { blocked_row(d, s, i, j, b0 + 4u, 4u, a4, nxt); }
        if (BLOCK_B > 5u && rows > 5u) { blocked_row(d, s, i, j, b0 + 5u, 5u, a5, nxt); }
        if (BLOCK_B > 6u && rows > 6u) { blocked_row(d, s, i, j, b0 + 6u, 6u, a6, nxt); }
        if (BLOCK_B > 7u && rows > 7u) { blocked_row(d, s, i, j, b0 + 7u, 7u, a7, nxt); }
      }
    }
    workgroupBarrier();
  }
}

// The blocked path with four or eight inputs per invocation (software adapters, H a multiple of 4, no
// projection): an invocation of a pass owns INPUT_QUADS quads of inputs, 4q … 4q + 3 (and 4q + 4 …
// 4q + 7), whose dL/dh are Σ_k Σ_g W_g[k ← i]·dg_g[k] (unit k's gate g fed by input i). With W_hh
// regrouped so that for each (unit k, gate g) the four inputs' weights are one vec4, each dg_g[k] of a
// row is a scalar that serves four outputs per quad — as the forward's h_{t−1}[k] does — instead of a
// vec4 per output: a quarter (an eighth) of the workgroup loads per multiply-add. Measured against
// persistent_backward_blocked on SwiftShader: see softwareBackwardLayout; two quads against one: see
// BLOCKED4_INPUT_QUADS (src/gpu/ops/backward.ts).

// Entry `regroup_w_hh`: w_regrouped[((d·H + k)·4 + g)·(H/4) + q] is the vec4 (W_hh[d] entry (input
// 4q + u, unit k), gate g) for u = 0 … 3, from the packed weights (vec4 of gates at (d·H + input)·H +
// unit). Invocation i = (d·H + k)·(H/4) + q reads the four packed vec4s of (inputs 4q … 4q + 3, unit k)
// and writes their transpose, one vec4 per gate: each weight read once (four times when an invocation
// wrote one gate: the char-LM's two layers 0.55 ms each on SwiftShader). Runs before the loop, once per
// layer and step.
@compute @workgroup_size(WORKGROUP_SIZE)
fn regroup_w_hh(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let H = dims.H;
  let Q = H / 4u;
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.D * H * Q) { return; }
  let q = i % Q;
  let dk = i / Q;  // d·H + k
  let k = dk % H;
  let d = dk / H;
  let w = dims.w_hh_offset + (d * H + 4u * q) * H + k;
  let m = mat4x4<f32>(param4(w), param4(w + H), param4(w + 2u * H), param4(w + 3u * H));  // column u: input 4q + u
  let t = transpose(m);  // column g: gate g of the four inputs
  for (var g = 0u; g < 4u; g++) { w_regrouped[(dk * 4u + g) * Q + q] = t[g]; }
}

// dg_h of one (row, unit) from workgroup memory (the same vec4 for every invocation). With subgroups,
// invocation c of each subgroup loads component c and broadcasts it: one workgroup load per invocation
// instead of four (call it in uniform control flow).
fn dg_shared(g: u32, lane: u32) -> vec4<f32> {
  if (SUBGROUPS) { return lane_scalars(dgb[g][lane % 4u]); }
  return dgb[g];
}

// acc + Σ_g W_g·dg[g] over the gates of one unit: four for LSTM, three for GRU, one for the RNN modes
// (the lanes past a mode's gates hold nothing W_hh multiplies: zero weights, zero gradient; their
// products are neither loaded, see persistent_backward_blocked4, nor added).
fn gates_fma(wi: vec4<f32>, wf: vec4<f32>, wg: vec4<f32>, wo: vec4<f32>, dg: vec4<f32>, acc: vec4<f32>) -> vec4<f32> {
  if (MODE == MODE_GRU) { return fma(wg, vec4<f32>(dg.z), fma(wf, vec4<f32>(dg.y), fma(wi, vec4<f32>(dg.x), acc))); }
  if (MODE == MODE_RNN_TANH || MODE == MODE_RNN_RELU) { return fma(wi, vec4<f32>(dg.x), acc); }
  return fma4(wi, wf, wg, wo, dg, acc);
}

// The regrouped vec4 i (regroup_w_hh's numbering).
fn regrouped4(i: u32) -> vec4<f32> {
  return w_regrouped[i];
}

// persistent_backward_blocked4: input quads per invocation, 1 or 2 (inputs 4q … 4q + 3, and with two
// 4q + 4 … 4q + 7): with two, each dg_h scalar a row loads serves eight outputs.
override INPUT_QUADS: u32 = 2u;

// One unit's regrouped weights for an invocation's input quads: gate g's vec4 of quad q (`lo`) and of
// quad q + 1 (`hi`, INPUT_QUADS 2). The gates past the mode's stay zero (gates_fma).
struct QuadWeights {
  i: vec4<f32>, f: vec4<f32>, g: vec4<f32>, o: vec4<f32>,
  i_hi: vec4<f32>, f_hi: vec4<f32>, g_hi: vec4<f32>, o_hi: vec4<f32>,
}

// A row's accumulators: lane u of `lo` input 4q + u, of `hi` input 4q + 4 + u.
struct QuadSums {
  lo: vec4<f32>,
  hi: vec4<f32>,
}

// Unit k's weights from the regrouped vec4 w = (k, gate 0, quad q); `hi` from quad q_hi (q + 1, or q
// where that is past H: computed, never stored). Q quads per (unit, gate).
fn quad_weights(w: u32, q_hi: u32, q: u32, Q: u32) -> QuadWeights {
  let z = vec4<f32>(0.0);
  var r = QuadWeights(regrouped4(w), z, z, z, z, z, z, z);
  let w_hi = w + q_hi - q;
  if (MODE == MODE_LSTM || MODE == MODE_GRU) {  // the gates past the first (gates_fma)
    r.f = regrouped4(w + Q);
    r.g = regrouped4(w + 2u * Q);
  }
  if (MODE == MODE_LSTM) { r.o = regrouped4(w + 3u * Q); }
  if (INPUT_QUADS > 1u) {
    r.i_hi = regrouped4(w_hi);
    if (MODE == MODE_LSTM || MODE == MODE_GRU) {
      r.f_hi = regrouped4(w_hi + Q);
      r.g_hi = regrouped4(w_hi + 2u * Q);
    }
    if (MODE == MODE_LSTM) { r.o_hi = regrouped4(w_hi + 3u * Q); }
  }
  return r;
}

// acc + the unit's share of the row's dL/dh for the invocation's inputs, dg the row's dg_h of the unit.
fn quads_fma(w: QuadWeights, dg: vec4<f32>, acc: QuadSums) -> QuadSums {
  var r = acc;
  r.lo = gates_fma(w.i, w.f, w.g, w.o, dg, acc.lo);
  if (INPUT_QUADS > 1u) { r.hi = gates_fma(w.i_hi, w.f_hi, w.g_hi, w.o_hi, dg, acc.hi); }
  return r;
}

// Output v of the invocation's (input 4q + v) from a row's sums, in lane 0 (blocked_row sums the lanes).
fn quad_output(a: QuadSums, v: u32) -> vec4<f32> {
  return vec4<f32>(select(a.lo[v % 4u], a.hi[v % 4u], v >= 4u), 0.0, 0.0, 0.0);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn persistent_backward_blocked4(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let lane = subgroup_lane();
  let H = dims.H;
  let Q = H / 4u;
  let blocks = (dims.B + BLOCK_B - 1u) / BLOCK_B;
  let d = wid.x / blocks;
  let b0 = (wid.x % blocks) * BLOCK_B;
  let rows = min(BLOCK_B, dims.B - b0);
  let half = BLOCK_B * H;  // one buffer: the block's rows × H vec4
  // Row r's dg_h in a buffer; rows past the block re-read the last one (never stored).
  let o1 = min(1u, rows - 1u) * H;
  let o2 = min(2u, rows - 1u) * H;
  let o3 = min(3u, rows - 1u) * H;
  let o4 = min(4u, rows - 1u) * H;
  let o5 = min(5u, rows - 1u) * H;
  let o6 = min(6u, rows - 1u) * H;
  let o7 = min(7u, rows - 1u) * H;
  for (var i = 0u; i <= dims.T; i++) {
    let s = select(dims.T - 1u - i, dims.T, i == dims.T);
    let cur = (i % 2u) * half;  // the previous step's dg_h here …
    let nxt = half - cur;       // … this step's there
    for (var q0 = 0u; q0 < Q; q0 += INPUT_QUADS * WORKGROUP_SIZE) {
      let first = q0 + INPUT_QUADS * lid;
      let q = min(first, Q - 1u);
      let q_hi = min(q + 1u, Q - 1u);
      // Row r's sums in a<r>. Separate accumulators stay in registers.
      let zero = QuadSums(vec4<f32>(0.0), vec4<f32>(0.0));
      var a0 = zero;
      var a1 = zero;
      var a2 = zero;
      var a3 = zero;
      var a4 = zero;
      var a5 = zero;
      var a6 = zero;
      var a7 = zero;
      if (i > 0u) {
        var w = d * H * Q * 4u + q;  // (unit 0, gate 0, quad q)
        for (var k = 0u; k < H; k++) {
          let wk = quad_weights(w, q_hi, q, Q);
          w += 4u * Q;
          let g = cur + k;
          a0 = quads_fma(wk, dg_shared(g, lane), a0);
          if (BLOCK_B > 1u) { a1 = quads_fma(wk, dg_shared(g + o1, lane), a1); }
          if (BLOCK_B > 2u) {
            a2 = quads_fma(wk, dg_shared(g + o2, lane), a2);
            a3 = quads_fma(wk, dg_shared(g + o3, lane), a3);
          }
          if (BLOCK_B > 4u) {
            a4 = quads_fma(wk, dg_shared(g + o4, lane), a4);
            a5 = quads_fma(wk, dg_shared(g + o5, lane), a5);
            a6 = quads_fma(wk, dg_shared(g + o6, lane), a6);
            a7 = quads_fma(wk, dg_shared(g + o7, lane), a7);
          }
        }
      }
      if (first < Q && d < dims.D) {
        for (var v = 0u; v < 4u * INPUT_QUADS; v++) {
          let j = 4u * q + v;
          if (j >= H) { break; }  // the second quad past H
          blocked_row(d, s, i, j, b0, 0u, quad_output(a0, v), nxt);
          if (BLOCK_B > 1u && rows > 1u) { blocked_row(d, s, i, j, b0 + 1u, 1u, quad_output(a1, v), nxt); }
          if (BLOCK_B > 2u && rows > 2u) { blocked_row(d, s, i, j, b0 + 2u, 2u, quad_output(a2, v), nxt); }
          if (BLOCK_B > 3u && rows > 3u) { blocked_row(d, s, i, j, b0 + 3u, 3u, quad_output(a3, v), nxt); }
          if (BLOCK_B > 4u && rows > 4u) { blocked_row(d, s, i, j, b0 + 4u, 4u, quad_output(a4, v), nxt); }
          if (BLOCK_B > 5u && rows > 5u) { blocked_row(d, s, i, j, b0 + 5u, 5u, quad_output(a5, v), nxt); }
          if (BLOCK_B > 6u && rows > 6u) { blocked_row(d, s, i, j, b0 + 6u, 6u, quad_output(a6, v), nxt); }
          if (BLOCK_B > 7u && rows > 7u) { blocked_row(d, s, i, j, b0 + 7u, 7u, quad_output(a7, v), nxt); }
        }
      }
    }
    workgroupBarrier();
  }
}
