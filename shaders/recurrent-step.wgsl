// One time step of one layer, all directions at once: the recurrent half of PyTorch's RNN / LSTM / GRU.
//
// Entry `step`: adds the recurrent term W_hh·h_{t−1} + b_hh to the precomputed input projection
// gx = W_ih·x_t + b_ih, applies the gate activations and updates the state. Gates are vec4 lanes
// (gate-interleaved packing, see src/gpu/layer-weights.ts): LSTM i, f, g, o; GRU r, z, n (r multiplies
// W_hn·h + b_hn, kept apart from gx); RNN lane 0.
//   Work split: invocation (j, batch block, d) owns hidden unit j of direction d for BLOCK_B batch rows
//   (workgroup_id.x·WORKGROUP_SIZE + local id = j, workgroup_id.y = d·blocks + block). For each k it
//   loads one vec4 of W_hh — all gates of unit j, contiguous across the workgroup — reused for every
//   row of the block, and h_{t−1} of the block's rows, the same for the whole workgroup (broadcast;
//   four columns per load with H_VEC4). No workgroup memory or barriers: both cost dearly on software adapters, and the broadcast loads
//   hit the cache on GPUs.
// With LSTM projection (HAS_PROJ) `step` writes h_raw = o·tanh(c) to `out`, and shaders/projection.wgsl
// applies W_hr and the length mask in a dispatch of its own.
//
// Time: the host dispatches step s = 0 … T−1 in order; direction 0 handles t = s, direction 1 (reverse)
// t = T−1−s. A row b with t ≥ lengths[b] is past its sequence end: its state passes through unchanged
// and its output is zero, which gives packed-sequence semantics (the reverse direction then starts at
// each sequence's own last element, from h0).
//
// State: two buffers, read `state_prev`, write `state_next`, swapped by the host every step
// (ping-pong bind groups). Each holds h (D, B, H_out) followed by c (D, B, H) for LSTM.
// Entry `step_wide` (software adapters, B ≥ 8): the same step with the GEMM's wide register tile
// (shaders/tile.wgsl) — invocation (gid.x, block of 8·WIDE_GROUPS batch rows, d) owns the WIDE_UNITS
// units from WIDE_UNITS·gid.x for every row of its block: per four k, 4·WIDE_UNITS W_hh vec4 loads and
// 2·WIDE_GROUPS h loads shared across the subgroup for 32·WIDE_UNITS·WIDE_GROUPS vec4 FMAs, against
// `step`'s 4 W loads and BLOCK_B h loads for 4·BLOCK_B. It is the GEMM h_{t−1}·W_hh (B × H_out · H_out × 4H, the packed W_hh read as 4H columns, one
// quad per unit) with the cell update as its epilogue, so a step costs one dispatch and the gates
// never leave registers. Measured in Chromium (SwiftShader, interleaved, see src/gpu/ops/recurrent-step.ts).
//
// Specialised by override constants: MODE, HAS_PROJ, WORKGROUP_SIZE, BLOCK_B, H_VEC4, WIDE_GROUPS, WIDE_UNITS, W_TEXTURE; sizes
// come from the uniform, the layer's weight offsets too. Shared helpers (param4, time_at, h_index, c_index,
// out_index) are in recurrent-common.wgsl.

override MODE: u32 = MODE_LSTM;
override HAS_PROJ: bool = false;   // LSTM proj_size > 0: `step` writes h_raw to `out`, projection.wgsl does the rest
override WORKGROUP_SIZE: u32 = 64u;
override BLOCK_B: u32 = 1u;        // `step`: batch rows per invocation, 1, 2 or 4
override H_VEC4: bool = false;     // H_out % 4 == 0: read h_{t−1} four columns per load (`state_prev4`)
override WIDE_GROUPS: u32 = 1u;    // `step_wide`: groups of 8 batch rows per invocation, 1, 2 or 4
override WIDE_UNITS: u32 = 2u;     // `step_wide`: hidden units per invocation, 2 or 4
// `step_wide` reads W_hh from `w_hh_tex` (recurrent-common.wgsl's w_hh_quad; `step` does not).
override W_TEXTURE: bool = false;
// Training: keep what the backward pass needs in `saved` (shaders/recurrent-backward.wgsl reads it):
// per valid (d, t, b, j) the gates' pre-activations (LSTM i,f,g,o and RNN: W_ih·x + b_ih + W_hh·h + b_hh;
// GRU r, z summed, then W_in·x + b_in and W_hn·h + b_hn apart), the LSTM cell state c_t, and with
// projection h_raw = o·tanh(c_t). Layout (D, T, B, H) (·4 for the pre-activations), at the offsets
// `save` gives.
override SAVE: bool = false;
// Training with recurrent dropout (needs SAVE): h_{t−1} is scaled by its mask (recurrent-save.wgsl's
// recurrent_scale) as the W_hh loops read it; the state buffers keep the whole h.
override RECURRENT_MASK: bool = false;

struct StepDims {
  T: u32,            // steps in this call
  B: u32,            // batch rows
  H: u32,            // hidden_size
  H_out: u32,        // proj_size if projecting, else hidden_size
  D: u32,            // directions
  w_hh_offset: u32,  // vec4 index of W_hh in `params`
  b_hh_offset: u32,  // vec4 index of b_hh in `params`
  w_hr_offset: u32,  // element index of W_hr in `w_hr`
}

struct StepIndex {
  s: u32,       // loop counter of this dispatch, 0 … T−1
}


@group(0) @binding(0) var<uniform> dims: StepDims;
@group(0) @binding(1) var<storage, read> lengths: array<u32>;       // (B)
@group(0) @binding(2) var<storage, read> gx: array<vec4<f32>>;      // (D, T, B, H) gate lanes: W_ih·x + b_ih
@group(0) @binding(3) var<storage, read> params: array<weight4>;  // the layer's packed weights: W_hh (D, H_out, H), b_hh (D, H) at their offsets
@group(0) @binding(4) var<storage, read_write> out: array<f32>;     // (T, B, D·H_out), or h_raw (D, B, H) when HAS_PROJ
@group(0) @binding(5) var<storage, read> w_hr: array<weight2>;      // not used here (recurrent-common.wgsl names it)
@group(0) @binding(6) var w_hh_tex: texture_2d<f32>;                // W_TEXTURE: texel (j, d·H_out + k) = W_hh vec4 (d, k, j); a placeholder otherwise
@group(1) @binding(0) var<storage, read> state_prev: array<f32>;    // h (D, B, H_out) then c (D, B, H)
@group(1) @binding(1) var<storage, read_write> state_next: array<f32>;
@group(1) @binding(2) var<storage, read> state_prev4: array<vec4<f32>>;  // state_prev again, as vec4 (H_VEC4)
@group(2) @binding(0) var<uniform> step_index: StepIndex;
@group(2) @binding(1) var<uniform> save: SaveDims;
@group(2) @binding(2) var<storage, read_write> saved: array<f32>;   // SAVE; a placeholder otherwise

// Recurrent dropout's scales of h_{t−1}[i … i + 3] (the state's h layout; i a multiple of 4).
fn scale4(i: u32) -> vec4<f32> {
  if (RECURRENT_MASK) { return vec4<f32>(recurrent_scale(i), recurrent_scale(i + 1u), recurrent_scale(i + 2u), recurrent_scale(i + 3u)); }
  return vec4<f32>(1.0);
}

// Gates and state update of unit j, row b, direction d, given rec = W_hh·h_{t−1} + b_hh per gate lane.
fn update_unit(d: u32, b: u32, j: u32, rec: vec4<f32>) {
  let H = dims.H;
  let B = dims.B;
  let t = time_at(d, step_index.s);
  let valid = t < lengths[b];
  let x = gx[((d * dims.T + t) * B + b) * H + j];  // gate lanes of unit j at (d, t, b)
  let hi = h_index(d, b, j);
  let ci = c_index(d, b, j);
  var h_prev = 0.0;  // own h_{t−1}: GRU only
  if (MODE == MODE_GRU) { h_prev = state_prev[hi]; }
  var c_prev = 0.0;  // cell state: LSTM only (other modes have no c part in the state buffer)
  if (MODE == MODE_LSTM) { c_prev = state_prev[ci]; }
  let hc = cell_update(MODE, x, rec, h_prev, c_prev);
  if (SAVE && valid) { save_step(((d * dims.T + t) * B + b) * H + j, x, rec, hc); }
  if (MODE == MODE_LSTM) {
    state_next[ci] = select(c_prev, hc.y, valid);
  }
  if (HAS_PROJ) {
    out[(d * B + b) * H + j] = hc.x;  // h_raw; projection.wgsl applies W_hr and the length mask
  } else {
    state_next[hi] = select(state_prev[hi], hc.x, valid);
    out[out_index(t, b, d, j)] = select(0.0, hc.x, valid);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn step(@builtin(global_invocation_id) gid: vec3<u32>) {
  let H = dims.H;
  let B = dims.B;
  let K = dims.H_out;
  let j = gid.x;
  let blocks = (B + BLOCK_B - 1u) / BLOCK_B;
  let d = gid.y / blocks;
  let b0 = (gid.y % blocks) * BLOCK_B;
  if (j >= H || d >= dims.D) { return; }
  let rows = min(BLOCK_B, B - b0);
  // h_{t−1} row of each batch row of the block; rows past B re-read the last one (never stored).
  let h0 = (d * B + b0) * K;
  let h1 = (d * B + b0 + min(1u, rows - 1u)) * K;
  let h2 = (d * B + b0 + min(2u, rows - 1u)) * K;
  let h3 = (d * B + b0 + min(3u, rows - 1u)) * K;

  // One accumulator per batch row, lanes are gates. Separate variables (not an array) stay in
  // registers on every backend; BLOCK_B is a pipeline constant, so the unused ones compile away.
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var w_index = dims.w_hh_offset + d * K * H + j;
  var k = 0u;
  if (H_VEC4) {
    // Four k per pass: 4 W loads and BLOCK_B h loads for 4·BLOCK_B FMAs (rows start 16-byte aligned).
    for (; k < K; k += 4u) {
      // Rows k … k + 3 of unit j's gate vec4s; the multiply-adds on the gate lanes only (quad_fma:
      // LIVE_COLUMNS is the mode's gate count).
      let w = mat4x4<f32>(param4(w_index), param4(w_index + H), param4(w_index + 2u * H), param4(w_index + 3u * H));
      w_index += 4u * H;
      let x0 = state_prev4[(h0 + k) / 4u] * scale4(h0 + k);
      acc0 = quad_fma(w, x0, acc0);
      if (BLOCK_B > 1u) {
        let x1 = state_prev4[(h1 + k) / 4u] * scale4(h1 + k);
        acc1 = quad_fma(w, x1, acc1);
      }
      if (BLOCK_B > 2u) {
        let x2 = state_prev4[(h2 + k) / 4u] * scale4(h2 + k);
        let x3 = state_prev4[(h3 + k) / 4u] * scale4(h3 + k);
        acc2 = quad_fma(w, x2, acc2);
        acc3 = quad_fma(w, x3, acc3);
      }
    }
  }
  // Every k where H_out is not four-aligned (recurrent-persistent.wgsl has the same loop over h in
  // workgroup memory; see there). With H_VEC4 the loop above ends at K, and the loop is not compiled
  // (see step_tiles).
  for (; !H_VEC4 && k < K; k++) {
    let w = param4(w_index);
    w_index += H;
    acc0 = fma(w, vec4<f32>(state_prev[h0 + k] * recurrent_scale(h0 + k)), acc0);
    if (BLOCK_B > 1u) { acc1 = fma(w, vec4<f32>(state_prev[h1 + k] * recurrent_scale(h1 + k)), acc1); }
    if (BLOCK_B > 2u) {
      acc2 = fma(w, vec4<f32>(state_prev[h2 + k] * recurrent_scale(h2 + k)), acc2);
      acc3 = fma(w, vec4<f32>(state_prev[h3 + k] * recurrent_scale(h3 + k)), acc3);
    }
  }
  let bias = param4(dims.b_hh_offset + d * H + j);
  update_unit(d, b0, j, acc0 + bias);
  if (rows > 1u) { update_unit(d, b0 + 1u, j, acc1 + bias); }
  if (rows > 2u) { update_unit(d, b0 + 2u, j, acc2 + bias); }
  if (rows > 3u) { update_unit(d, b0 + 3u, j, acc3 + bias); }
}

// h_{t−1}[k … k + 3] (scaled by recurrent dropout's mask) of rows m … m + 7 of the block whose first row
// starts at `base` (rows clamped to the block's last, `rows` − 1: duplicates, never stored); H_VEC4.
// With subgroups, invocation (lane mod 4) loads rows m + lane mod 4 and m + 4 + lane mod 4 for its
// subgroup, as the GEMM's a_rows8. Uniform control flow.
fn h_rows8(lane: u32, base: u32, m: u32, rows: u32, k: u32) -> Rows8 {
  let K = dims.H_out;
  let last = rows - 1u;
  if (SUBGROUPS) {
    let lo = base + min(m + lane % 4u, last) * K + k;
    let hi = base + min(m + 4u + lane % 4u, last) * K + k;
    let l = lane_values(state_prev4[lo / 4u] * scale4(lo));
    let h = lane_values(state_prev4[hi / 4u] * scale4(hi));
    return Rows8(l.l0, l.l1, l.l2, l.l3, h.l0, h.l1, h.l2, h.l3);
  }
  let i0 = base + min(m, last) * K + k;
  let i1 = base + min(m + 1u, last) * K + k;
  let i2 = base + min(m + 2u, last) * K + k;
  let i3 = base + min(m + 3u, last) * K + k;
  let i4 = base + min(m + 4u, last) * K + k;
  let i5 = base + min(m + 5u, last) * K + k;
  let i6 = base + min(m + 6u, last) * K + k;
  let i7 = base + min(m + 7u, last) * K + k;
  return Rows8(state_prev4[i0 / 4u] * scale4(i0), state_prev4[i1 / 4u] * scale4(i1), state_prev4[i2 / 4u] * scale4(i2),
               state_prev4[i3 / 4u] * scale4(i3), state_prev4[i4 / 4u] * scale4(i4), state_prev4[i5 / 4u] * scale4(i5),
               state_prev4[i6 / 4u] * scale4(i6), state_prev4[i7 / 4u] * scale4(i7));
}

// h_{t−1}[k] (scaled) at element i of the state.
fn h_at(i: u32) -> f32 {
  return state_prev[i] * recurrent_scale(i);
}

// The same at one k, as two vec4s (rows m … m + 3, then m + 4 … m + 7): H_out not four-aligned, or
// the k remainder. Uniform control flow.
fn h_column8(lane: u32, base: u32, m: u32, rows: u32, k: u32) -> mat2x4<f32> {
  let K = dims.H_out;
  let last = rows - 1u;
  if (SUBGROUPS) {
    return mat2x4<f32>(lane_scalars(h_at(base + min(m + lane % 4u, last) * K + k)), lane_scalars(h_at(base + min(m + 4u + lane % 4u, last) * K + k)));
  }
  return mat2x4<f32>(vec4<f32>(h_at(base + min(m, last) * K + k), h_at(base + min(m + 1u, last) * K + k),
                               h_at(base + min(m + 2u, last) * K + k), h_at(base + min(m + 3u, last) * K + k)),
                     vec4<f32>(h_at(base + min(m + 4u, last) * K + k), h_at(base + min(m + 5u, last) * K + k),
                               h_at(base + min(m + 6u, last) * K + k), h_at(base + min(m + 7u, last) * K + k)));
}

// The cell update of unit j for the first `rows` rows (at most 8) of a tile, batch rows b, b + 1, …
// A loop over a private array, not eight unrolled calls: one copy of the cell's code instead of
// eight. Measured in Chromium (SwiftShader, throughput shape, interleaved): 191 vs 213 ms.
fn update_tile(d: u32, b: u32, j: u32, t: Tile, bias: vec4<f32>, rows: u32) {
  let acc = array<vec4<f32>, 8>(t.r0, t.r1, t.r2, t.r3, t.r4, t.r5, t.r6, t.r7);
  for (var r = 0u; r < min(rows, 8u); r++) { update_unit(d, b + r, j, acc[r] + bias); }
}

// The tiles of one `step_wide` invocation, h_{t−1}·W_hh for its block's rows (8·WIDE_GROUPS from the
// state's element `base`, `rows` of them real) and its units j.x, j.y and, with four units, j.z, j.w of
// direction d, whose W_hh rows start at row y0 = d·H_out of the (D·H_out, H) gate vec4s: t<g><u> is group
// g of eight rows × unit u (WideTiles, tile.wgsl). Four k at a time where H_out is four-aligned, else one
// k at a time.
fn step_tiles(lane: u32, base: u32, rows: u32, j: vec4<u32>, y0: u32) -> WideTiles {
  let o = tile_of(vec4<f32>(0.0));
  var t = WideTiles(o, o, o, o, o, o, o, o, o, o, o, o, o, o, o, o);
  let H = dims.H;
  let K = dims.H_out;
  var w = vec4<u32>(dims.w_hh_offset + y0 * H) + j;  // each unit's W_hh row k in `params`
  var k = 0u;
  for (; H_VEC4 && k + 4u <= K; k += 4u) {
    let y = y0 + k;
    let u0 = w_hh_quad(w.x, j.x, y);
    let u1 = w_hh_quad(w.y, j.y, y);
    var u2 = u0;
    var u3 = u0;
    if (WIDE_UNITS > 2u) {
      u2 = w_hh_quad(w.z, j.z, y);
      u3 = w_hh_quad(w.w, j.w, y);
    }
    w += vec4<u32>(4u * H);
    let a0 = h_rows8(lane, base, 0u, rows, k);
    t.t00 = quad_rows(t.t00, u0, a0);
    t.t01 = quad_rows(t.t01, u1, a0);
    if (WIDE_UNITS > 2u) {
      t.t02 = quad_rows(t.t02, u2, a0);
      t.t03 = quad_rows(t.t03, u3, a0);
    }
    if (WIDE_GROUPS > 1u) {
      let a1 = h_rows8(lane, base, 8u, rows, k);
      t.t10 = quad_rows(t.t10, u0, a1);
      t.t11 = quad_rows(t.t11, u1, a1);
      if (WIDE_UNITS > 2u) {
        t.t12 = quad_rows(t.t12, u2, a1);
        t.t13 = quad_rows(t.t13, u3, a1);
      }
    }
    if (WIDE_GROUPS > 2u) {
      let a2 = h_rows8(lane, base, 16u, rows, k);
      t.t20 = quad_rows(t.t20, u0, a2);
      t.t21 = quad_rows(t.t21, u1, a2);
      if (WIDE_UNITS > 2u) {
        t.t22 = quad_rows(t.t22, u2, a2);
        t.t23 = quad_rows(t.t23, u3, a2);
      }
      let a3 = h_rows8(lane, base, 24u, rows, k);
      t.t30 = quad_rows(t.t30, u0, a3);
      t.t31 = quad_rows(t.t31, u1, a3);
      if (WIDE_UNITS > 2u) {
        t.t32 = quad_rows(t.t32, u2, a3);
        t.t33 = quad_rows(t.t33, u3, a3);
      }
    }
  }
  // One k at a time: every k where H_out is not four-aligned. With H_VEC4 the loop above ends at K, so
  // this one is not compiled: on SwiftShader a loop that never runs still costs the one before it a
  // masked merge of every accumulator per pass (as gemm.wgsl's K_REMAINDER). Char-rnn's four-k loop
  // went from 15,125 to 13,911 x86 instructions a pass (its JIT code, disassembled).
  for (; !H_VEC4 && k < K; k++) {
    let y = y0 + k;
    let u0 = w_hh_one(w.x, j.x, y);
    let u1 = w_hh_one(w.y, j.y, y);
    var u2 = u0;
    var u3 = u0;
    if (WIDE_UNITS > 2u) {
      u2 = w_hh_one(w.z, j.z, y);
      u3 = w_hh_one(w.w, j.w, y);
    }
    w += vec4<u32>(H);
    let x0 = h_column8(lane, base, 0u, rows, k);
    t.t00 = one_k(t.t00, u0, x0);
    t.t01 = one_k(t.t01, u1, x0);
    if (WIDE_UNITS > 2u) {
      t.t02 = one_k(t.t02, u2, x0);
      t.t03 = one_k(t.t03, u3, x0);
    }
    if (WIDE_GROUPS > 1u) {
      let x1 = h_column8(lane, base, 8u, rows, k);
      t.t10 = one_k(t.t10, u0, x1);
      t.t11 = one_k(t.t11, u1, x1);
      if (WIDE_UNITS > 2u) {
        t.t12 = one_k(t.t12, u2, x1);
        t.t13 = one_k(t.t13, u3, x1);
      }
    }
    if (WIDE_GROUPS > 2u) {
      let x2 = h_column8(lane, base, 16u, rows, k);
      t.t20 = one_k(t.t20, u0, x2);
      t.t21 = one_k(t.t21, u1, x2);
      if (WIDE_UNITS > 2u) {
        t.t22 = one_k(t.t22, u2, x2);
        t.t23 = one_k(t.t23, u3, x2);
      }
      let x3 = h_column8(lane, base, 24u, rows, k);
      t.t30 = one_k(t.t30, u0, x3);
      t.t31 = one_k(t.t31, u1, x3);
      if (WIDE_UNITS > 2u) {
        t.t32 = one_k(t.t32, u2, x3);
        t.t33 = one_k(t.t33, u3, x3);
      }
    }
  }
  return t;
}

// The cell update of one group of rows (batch rows b …, `rows` of them, at most 8) for each of the
// invocation's units j that lies in the layer (`has`); unit u's gates are tile t<u> plus b_hh's bias[u].
fn update_group(d: u32, b: u32, j: vec4<u32>, has: vec4<bool>, t0: Tile, t1: Tile, t2: Tile, t3: Tile, bias: mat4x4<f32>, rows: u32) {
  update_tile(d, b, j.x, t0, bias[0], rows);
  if (has.y) { update_tile(d, b, j.y, t1, bias[1], rows); }
  if (WIDE_UNITS > 2u && has.z) { update_tile(d, b, j.z, t2, bias[2], rows); }
  if (WIDE_UNITS > 2u && has.w) { update_tile(d, b, j.w, t3, bias[3], rows); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn step_wide(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let lane = subgroup_lane();
  let H = dims.H;
  let B = dims.B;
  let K = dims.H_out;
  // Rows and direction come from the workgroup, so every branch on them is uniform (the subgroup
  // broadcasts need that); a unit past H computes on the last unit and stores nothing.
  let block_rows = 8u * WIDE_GROUPS;
  let blocks = (B + block_rows - 1u) / block_rows;
  let d = wid.y / blocks;
  let b0 = (wid.y % blocks) * block_rows;
  if (d >= dims.D) { return; }
  let rows = min(block_rows, B - b0);
  let first = WIDE_UNITS * gid.x;
  let units = vec4<u32>(first, first + 1u, first + 2u, first + 3u);
  let j = min(units, vec4<u32>(H - 1u));
  let t = step_tiles(lane, (d * B + b0) * K, rows, j, d * K);
  if (first >= H) { return; }
  let has = units < vec4<u32>(H);
  let b_hh = dims.b_hh_offset + d * H;
  var bias = mat4x4<f32>(param4(b_hh + j.x), param4(b_hh + j.y), vec4<f32>(0.0), vec4<f32>(0.0));
  if (WIDE_UNITS > 2u) {
    bias[2] = param4(b_hh + j.z);
    bias[3] = param4(b_hh + j.w);
  }
  update_group(d, b0, j, has, t.t00, t.t01, t.t02, t.t03, bias, rows);
  if (WIDE_GROUPS > 1u && rows > 8u) { update_group(d, b0 + 8u, j, has, t.t10, t.t11, t.t12, t.t13, bias, rows - 8u); }
  if (WIDE_GROUPS > 2u && rows > 16u) { update_group(d, b0 + 16u, j, has, t.t20, t.t21, t.t22, t.t23, bias, rows - 16u); }
  if (WIDE_GROUPS > 2u && rows > 24u) { update_group(d, b0 + 24u, j, has, t.t30, t.t31, t.t32, t.t33, bias, rows - 24u); }
}
