// A whole layer in one dispatch: the time loop runs inside the workgroups, with h kept in workgroup
// memory and a workgroupBarrier() between steps, so a sequence costs one dispatch per layer instead
// of 1 + T. Directions and batch rows are independent sequences, so the dispatch has one workgroup per
// (direction d, block of BLOCK_B batch rows): workgroup_id.x = d·blocks + block. For shapes whose
// state per block fits one workgroup's memory (the on-device case; small and moderate H).
//
// Per step s, invocation lid owns hidden units j = UNITS·lid (and j + 1 with UNITS 2), then those a
// pass of UNITS·WORKGROUP_SIZE further, … of its direction, for every row of its block: it loads each
// W_hh element once and uses it for all the block's rows (as the per-step kernel's batch blocks do),
// and each h_{t−1} value for its UNITS units. For each (row, j) it takes the input projection — from
// `gx`, made for all steps by the matmul kernel, or (INLINE_INPUT) computed here — adds the recurrent
// term W_hh·h_{t−1} + b_hh from the h held in workgroup memory, and applies the cell update (prelude's
// cell_update). Direction 0 runs t = s, direction 1 (reverse) t = T−1−s; a row with t ≥ lengths[b]
// keeps its state and outputs zero (packed-sequence semantics), as in the per-step kernel.
//
// Workgroup memory `shared_f` (SHARED_FLOATS f32, sized by the host): the block's h double-buffered — (BLOCK_B, H_out)
// at 0 and at BLOCK_B·H_out, read one, written the other, swapped every step so one barrier a step
// suffices — then, with projection, h_raw (BLOCK_B, H) at 2·BLOCK_B·H_out. The host checks that this
// fits. Cell state c stays in the `state` buffer (with CACHE_K, in a private variable until the end):
// each (row, unit)'s c is read and written only by its owner. `state` holds h (D, B, H_out) then
// c (D, B, H) (LSTM); it is read at the start and holds the final state at the end. Weights are the
// layer's packed `params` (gate-interleaved, see src/gpu/layer-weights.ts) at the offsets the uniform
// gives.
//
// CACHE_K > 0 (software adapters, one batch row per workgroup, H_out ≤ CACHE_MAX_K): each invocation
// owns one unit for the whole dispatch (the host makes WORKGROUP_SIZE ≥ H and BLOCK_B = 1), copies
// its column of W_hh into private memory once, and every step reads it from there (cached_dot)
// instead of reloading it from `params`: W_hh is read once per dispatch, not once per step.
// Shared helpers (param4, w_hr_at, time_at, h_index, c_index, out_index) are in recurrent-common.wgsl.

override MODE: u32 = MODE_LSTM;
override HAS_PROJ: bool = false;
override WORKGROUP_SIZE: u32 = 256u;
// Whether the one-k loop over h_{t−1} is compiled: only where H_out % 4 ≠ 0 (the host's
// PersistentLayout.kRemainder); else the four-k loop takes every k. On SwiftShader its mere presence
// costs (entering it copies every accumulator), measured in src/gpu/ops/persistent.ts.
override K_REMAINDER: bool = true;
// W_hh from `w_hh_tex` instead of `params` (recurrent-common.wgsl's w_hh_quad), where the host made one.
override W_TEXTURE: bool = false;
override BLOCK_B: u32 = 1u;  // batch rows per workgroup: 1, 2, 4 or 8
// true: compute W_ih·x_t + b_ih inside the loop (1 dispatch per layer); false: read it from `gx`,
// precomputed for all steps by the matmul kernel (2 dispatches per layer, less serial work).
override INLINE_INPUT: bool = true;
// H_out when W_hh is cached in private memory (see above), else 0. At most CACHE_MAX_K.
override CACHE_K: u32 = 0u;
// Hidden units per invocation, 1 or 2 (2 only without CACHE_K): units j and j + 1, each h_{t−1} value a
// row loads serving both.
override UNITS: u32 = 1u;
// Training: keep the step's activations in `saved` (SaveDims in recurrent-common.wgsl), as the step
// kernel does.
override SAVE: bool = false;
// Training with recurrent dropout (needs SAVE): the h in workgroup memory, which only the W_hh loops
// read, is kept already scaled by its mask (recurrent-save.wgsl's recurrent_scale) — the scale is the
// same at every step, so a row that passes its state through keeps it scaled too — while each
// invocation keeps the whole h of the units it owns in `state` (the GRU's z·h_{t−1} reads it there),
// which then holds the final state without the closing copy.
override RECURRENT_MASK: bool = false;

// f32 of workgroup memory: at least 2·BLOCK_B·H_out (+ BLOCK_B·H with projection), at most 4,096 (16 KiB,
// the maxComputeWorkgroupStorageSize WebGPU guarantees); the host sizes it to the shape (see
// workgroupArrayLength in src/gpu/program.ts: a longer array takes longer to build).
override SHARED_FLOATS: u32 = 4096u;

struct PersistentDims {
  T: u32,
  B: u32,
  H: u32,
  H_out: u32,
  D: u32,
  I: u32,            // layer input features
  w_ih_offset: u32,  // vec4 indices into `params`
  b_ih_offset: u32,
  w_hh_offset: u32,
  b_hh_offset: u32,
  w_hr_offset: u32,  // element index of W_hr in `w_hr`
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> dims: PersistentDims;
@group(0) @binding(1) var<storage, read> lengths: array<u32>;        // (B)
@group(0) @binding(2) var<storage, read> x: array<f32>;              // (T, B, I) layer input
@group(0) @binding(3) var<storage, read> params: array<weight4>;   // packed W_ih, b_ih, W_hh, b_hh
@group(0) @binding(4) var<storage, read_write> out: array<f32>;      // (T, B, D·H_out)
@group(0) @binding(5) var<storage, read> w_hr: array<weight2>;           // (D, P, H)
@group(0) @binding(6) var<storage, read_write> state: array<f32>;    // h (D, B, H_out) then c (D, B, H)
@group(0) @binding(7) var<storage, read> gx: array<vec4<f32>>;       // (D, T, B, H) W_ih·x + b_ih, when !INLINE_INPUT
@group(0) @binding(8) var w_hh_tex: texture_2d<f32>;                 // W_TEXTURE: W_hh as a texture (recurrent-common.wgsl); a placeholder otherwise
@group(1) @binding(0) var<uniform> save: SaveDims;
@group(1) @binding(1) var<storage, read_write> saved: array<f32>;   // SAVE; a placeholder otherwise

var<workgroup> shared_f: array<f32, SHARED_FLOATS>;

const CACHE_MAX_K = 128u;
// This invocation's W_hh column (CACHE_K > 0), four k to a matrix: column c of w_quads[q] is the
// gate vec4 of k = 4q + c, so w_quads[q] * h_{t−1}[4q … 4q + 3] is those four k's FMAs.
var<private> w_quads: array<mat4x4<f32>, CACHE_MAX_K / 4u>;
var<private> c_cached: f32;  // CACHE_K > 0, LSTM: the cell state of this invocation's (row, unit)

// h_{t−1}[i … i + 3] of one row, from workgroup memory. With subgroups, invocation q of each subgroup
// loads element i + q and broadcasts it: one load per invocation instead of four (call it in uniform
// control flow).
fn h_quad(i: u32, lane: u32) -> vec4<f32> {
  if (SUBGROUPS) { return lane_scalars(shared_f[i + lane % 4u]); }
  return vec4<f32>(shared_f[i], shared_f[i + 1u], shared_f[i + 2u], shared_f[i + 3u]);
}

// acc + W_hh·h_{t−1} for one row whose h_{t−1} is at `h` in workgroup memory, with this invocation's
// W_hh column from w_quads (CACHE_K > 0). Line q is quad q: `if (CACHE_K >= 4(q+1)) { a += w_quads[q] *
// h_quad(h + 4q, lane); }` (test/structure/unrolled.test.ts checks the pattern). They are written out because on a software adapter a
// constant index into private memory is a plain vector load, while a computed one is a per-lane
// gather (measured on SwiftShader, per vec4 FMA: 0.8 ns with constant indices, 8–11 ns with a loop
// index, 14 ns from a buffer). CACHE_K is a pipeline constant, so the quads past H_out compile away.
// Uniform control flow.
fn cached_dot(h: u32, lane: u32, acc: vec4<f32>) -> vec4<f32> {
  var a = acc;
  if (CACHE_K >= 4u) { a += w_quads[0] * h_quad(h, lane); }
  if (CACHE_K >= 8u) { a += w_quads[1] * h_quad(h + 4u, lane); }
  if (CACHE_K >= 12u) { a += w_quads[2] * h_quad(h + 8u, lane); }
  if (CACHE_K >= 16u) { a += w_quads[3] * h_quad(h + 12u, lane); }
  if (CACHE_K >= 20u) { a += w_quads[4] * h_quad(h + 16u, lane); }
  if (CACHE_K >= 24u) { a += w_quads[5] * h_quad(h + 20u, lane); }
  if (CACHE_K >= 28u) { a += w_quads[6] * h_quad(h + 24u, lane); }
  if (CACHE_K >= 32u) { a += w_quads[7] * h_quad(h + 28u, lane); }
  if (CACHE_K >= 36u) { a += w_quads[8] * h_quad(h + 32u, lane); }
  if (CACHE_K >= 40u) { a += w_quads[9] * h_quad(h + 36u, lane); }
  if (CACHE_K >= 44u) { a += w_quads[10] * h_quad(h + 40u, lane); }
  if (CACHE_K >= 48u) { a += w_quads[11] * h_quad(h + 44u, lane); }
  if (CACHE_K >= 52u) { a += w_quads[12] * h_quad(h + 48u, lane); }
  if (CACHE_K >= 56u) { a += w_quads[13] * h_quad(h + 52u, lane); }
  if (CACHE_K >= 60u) { a += w_quads[14] * h_quad(h + 56u, lane); }
  if (CACHE_K >= 64u) { a += w_quads[15] * h_quad(h + 60u, lane); }
  if (CACHE_K >= 68u) { a += w_quads[16] * h_quad(h + 64u, lane); }
  if (CACHE_K >= 72u) { a += w_quads[17] * h_quad(h + 68u, lane); }
  if (CACHE_K >= 76u) { a += w_quads[18] * h_quad(h + 72u, lane); }
  if (CACHE_K >= 80u) { a += w_quads[19] * h_quad(h + 76u, lane); }
  if (CACHE_K >= 84u) { a += w_quads[20] * h_quad(h + 80u, lane); }
  if (CACHE_K >= 88u) { a += w_quads[21] * h_quad(h + 84u, lane); }
  if (CACHE_K >= 92u) { a += w_quads[22] * h_quad(h + 88u, lane); }
  if (CACHE_K >= 96u) { a += w_quads[23] * h_quad(h + 92u, lane); }
  if (CACHE_K >= 100u) { a += w_quads[24] * h_quad(h + 96u, lane); }
  if (CACHE_K >= 104u) { a += w_quads[25] * h_quad(h + 100u, lane); }
  if (CACHE_K >= 108u) { a += w_quads[26] * h_quad(h + 104u, lane); }
  if (CACHE_K >= 112u) { a += w_quads[27] * h_quad(h + 108u, lane); }
  if (CACHE_K >= 116u) { a += w_quads[28] * h_quad(h + 112u, lane); }
  if (CACHE_K >= 120u) { a += w_quads[29] * h_quad(h + 116u, lane); }
  if (CACHE_K >= 124u) { a += w_quads[30] * h_quad(h + 120u, lane); }
  if (CACHE_K >= 128u) { a += w_quads[31] * h_quad(h + 124u, lane); }
  for (var k = CACHE_K & ~3u; k < CACHE_K; k++) { a = fma(w_quads[k / 4u][k % 4u], vec4<f32>(shared_f[h + k]), a); }
  return a;
}

// W_ih·x_t + b_ih of unit j, direction d, batch row b (INLINE_INPUT), or its precomputed value.
fn input_projection(d: u32, t: u32, b: u32, j: u32) -> vec4<f32> {
  let H = dims.H;
  if (!INLINE_INPUT) { return gx[((d * dims.T + t) * dims.B + b) * H + j]; }
  var xp = param4(dims.b_ih_offset + d * H + j);
  var wi = dims.w_ih_offset + d * dims.I * H + j;
  let x_row = (t * dims.B + b) * dims.I;
  for (var k = 0u; k < dims.I; k++) {
    xp = fma(param4(wi), vec4<f32>(x[x_row + k]), xp);
    wi += H;
  }
  return xp;
}

// The cell update of unit j for row r (batch row b) of the block, given rec = W_hh·h_{t−1} + b_hh;
// h_{t−1} of the block is at `cur` in workgroup memory, h_t goes to `nxt`; `valid`: t < lengths[b].
fn update_unit(d: u32, t: u32, r: u32, b: u32, j: u32, rec: vec4<f32>, valid: bool, cur: u32, nxt: u32) {
  let H = dims.H;
  let K = dims.H_out;
  var c_prev = 0.0;
  if (MODE == MODE_LSTM) {
    if (CACHE_K > 0u) { c_prev = c_cached; } else { c_prev = state[c_index(d, b, j)]; }
  }
  var h_prev = 0.0;
  if (!HAS_PROJ) { h_prev = shared_f[cur + r * K + j]; }  // K = H without projection
  if (RECURRENT_MASK && !HAS_PROJ) { h_prev = state[h_index(d, b, j)]; }  // the whole h_{t−1}, not the scaled one
  let x = input_projection(d, t, b, j);
  let hc = cell_update(MODE, x, rec, h_prev, c_prev);
  if (SAVE && valid) { save_step(((d * dims.T + t) * dims.B + b) * H + j, x, rec, hc); }
  if (MODE == MODE_LSTM) {
    let c = select(c_prev, hc.y, valid);
    if (CACHE_K > 0u) { c_cached = c; } else { state[c_index(d, b, j)] = c; }
  }
  if (HAS_PROJ) {
    shared_f[2u * BLOCK_B * K + r * H + j] = hc.x;  // h_raw; the projection below applies W_hr
  } else {
    shared_f[nxt + r * K + j] = select(shared_f[cur + r * K + j], hc.x * recurrent_scale(h_index(d, b, j)), valid);
    if (RECURRENT_MASK && valid) { state[h_index(d, b, j)] = hc.x; }
    out[out_index(t, b, d, j)] = select(0.0, hc.x, valid);
  }
}

// W_hh·h_{t−1} sums of one row for the invocation's units: `a` unit j, `b` unit j + 1 (UNITS 2).
struct UnitSums {
  a: vec4<f32>,
  b: vec4<f32>,
}

// acc + four k of W_hh·h for each unit: rows k … k + 3 of unit j's gate vec4s from vec4 index `wa`
// (rows H vec4s apart), of unit j + 1's from `wb`; x = h_{t−1}[k … k + 3].
fn units_fma4(wa: mat4x4<f32>, wb: mat4x4<f32>, x: vec4<f32>, acc: UnitSums) -> UnitSums {
  var r = acc;
  r.a = fma4(wa[0], wa[1], wa[2], wa[3], x, acc.a);
  if (UNITS > 1u) { r.b = fma4(wb[0], wb[1], wb[2], wb[3], x, acc.b); }
  return r;
}

// acc + one k: unit j's gate vec4 wa, unit j + 1's wb, times h_{t−1}[k] = x.
fn units_fma(wa: vec4<f32>, wb: vec4<f32>, x: f32, acc: UnitSums) -> UnitSums {
  var r = acc;
  r.a = fma(wa, vec4<f32>(x), acc.a);
  if (UNITS > 1u) { r.b = fma(wb, vec4<f32>(x), acc.b); }
  return r;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn persistent(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let lane = subgroup_lane();
  let T = dims.T;
  let B = dims.B;
  let H = dims.H;
  let K = dims.H_out;
  let blocks = (B + BLOCK_B - 1u) / BLOCK_B;
  let d = wid.x / blocks;
  let b0 = (wid.x % blocks) * BLOCK_B;
  let rows = min(BLOCK_B, B - b0);
  let block_h = BLOCK_B * K;         // one h buffer of the block (rows past B unused)
  let state_h = h_index(d, b0, 0u);  // the block's h in `state`: rows × K, contiguous

  for (var e = lid; e < rows * K; e += WORKGROUP_SIZE) { shared_f[e] = state[state_h + e] * recurrent_scale(state_h + e); }
  workgroupBarrier();
  if (CACHE_K > 0u) {
    let j = min(lid, H - 1u);
    for (var k = 0u; k < CACHE_K; k++) { w_quads[k / 4u][k % 4u] = param4(dims.w_hh_offset + (d * K + k) * H + j); }
    if (MODE == MODE_LSTM) { c_cached = state[c_index(d, b0, j)]; }
  }
  // Each row's length, read once: t < len_r says whether row r takes step t.
  let len0 = lengths[b0];
  let len1 = lengths[b0 + min(1u, rows - 1u)];
  let len2 = lengths[b0 + min(2u, rows - 1u)];
  let len3 = lengths[b0 + min(3u, rows - 1u)];
  let len4 = lengths[b0 + min(4u, rows - 1u)];
  let len5 = lengths[b0 + min(5u, rows - 1u)];
  let len6 = lengths[b0 + min(6u, rows - 1u)];
  let len7 = lengths[b0 + min(7u, rows - 1u)];

  for (var s = 0u; s < T; s++) {
    let t = time_at(d, s);
    let cur = (s % 2u) * block_h;  // h_{t−1} here …
    let nxt = block_h - cur;       // … h_t there
    // Row r's h_{t−1} in workgroup memory; rows past the block re-read the last one (never stored).
    let h0 = cur;
    let h1 = cur + min(1u, rows - 1u) * K;
    let h2 = cur + min(2u, rows - 1u) * K;
    let h3 = cur + min(3u, rows - 1u) * K;
    let h4 = cur + min(4u, rows - 1u) * K;
    let h5 = cur + min(5u, rows - 1u) * K;
    let h6 = cur + min(6u, rows - 1u) * K;
    let h7 = cur + min(7u, rows - 1u) * K;
    // Units in passes of the workgroup's width, in uniform control flow (the subgroup broadcasts
    // need it): an invocation past H computes on a clamped unit and stores nothing.
    for (var j0 = 0u; j0 < H; j0 += UNITS * WORKGROUP_SIZE) {
      let first = j0 + UNITS * lid;
      let j = min(first, H - 1u);
      let j_hi = min(first + 1u, H - 1u);  // UNITS 2: the second unit (the last again past H: never stored)
      // W_hh·h_{t−1} for every row of the block: one W load serves them all. Separate accumulators
      // (not an array) stay in registers; BLOCK_B is a pipeline constant, unused ones compile away.
      let b_hh = dims.b_hh_offset + d * H;
      var bias = UnitSums(param4(b_hh + j), vec4<f32>(0.0));
      if (UNITS > 1u) { bias.b = param4(b_hh + j_hi); }
      var acc0 = bias;
      var acc1 = bias;
      var acc2 = bias;
      var acc3 = bias;
      var acc4 = bias;
      var acc5 = bias;
      var acc6 = bias;
      var acc7 = bias;
      var wh = dims.w_hh_offset + d * K * H + j;
      let hi = j_hi - j;  // unit j + 1's weights, this far on
      var k = 0u;
      if (CACHE_K > 0u) {  // one row, one pass: W_hh from private memory, nothing left for the loops below
        acc0.a = cached_dot(h0, lane, acc0.a);
        k = K;
      }
      let y0 = d * K;  // W_hh's texture row of k = 0
      for (; k + 4u <= K; k += 4u) {  // four k per pass: 4·UNITS W loads for 4·UNITS·BLOCK_B vec4 FMAs
        let wa = w_hh_quad(wh, j, y0 + k);
        var wb = wa;
        if (UNITS > 1u) { wb = w_hh_quad(wh + hi, j_hi, y0 + k); }
        wh += 4u * H;
        acc0 = units_fma4(wa, wb, h_quad(h0 + k, lane), acc0);
        if (BLOCK_B > 1u) { acc1 = units_fma4(wa, wb, h_quad(h1 + k, lane), acc1); }
        if (BLOCK_B > 2u) {
          acc2 = units_fma4(wa, wb, h_quad(h2 + k, lane), acc2);
          acc3 = units_fma4(wa, wb, h_quad(h3 + k, lane), acc3);
        }
        if (BLOCK_B > 4u) {
          acc4 = units_fma4(wa, wb, h_quad(h4 + k, lane), acc4);
          acc5 = units_fma4(wa, wb, h_quad(h5 + k, lane), acc5);
          acc6 = units_fma4(wa, wb, h_quad(h6 + k, lane), acc6);
          acc7 = units_fma4(wa, wb, h_quad(h7 + k, lane), acc7);
        }
      }
      // The k remainder, one k at a time. recurrent-step.wgsl has the same loop over h in a storage
      // buffer: WGSL functions cannot take either address space, so each kernel keeps its own.
      for (; K_REMAINDER && k < K; k++) {
        let wa = w_hh_one(wh, j, y0 + k);
        var wb = wa;
        if (UNITS > 1u) { wb = w_hh_one(wh + hi, j_hi, y0 + k); }
        wh += H;
        acc0 = units_fma(wa, wb, shared_f[h0 + k], acc0);
        if (BLOCK_B > 1u) { acc1 = units_fma(wa, wb, shared_f[h1 + k], acc1); }
        if (BLOCK_B > 2u) {
          acc2 = units_fma(wa, wb, shared_f[h2 + k], acc2);
          acc3 = units_fma(wa, wb, shared_f[h3 + k], acc3);
        }
        if (BLOCK_B > 4u) {
          acc4 = units_fma(wa, wb, shared_f[h4 + k], acc4);
          acc5 = units_fma(wa, wb, shared_f[h5 + k], acc5);
          acc6 = units_fma(wa, wb, shared_f[h6 + k], acc6);
          acc7 = units_fma(wa, wb, shared_f[h7 + k], acc7);
        }
      }
      // rows ≤ BLOCK_B already; testing the pipeline constant too lets the compiler drop the rows a
      // narrow block cannot have (measured: long-lstm, B = 1, was ~20% slower without it).
      for (var u = 0u; u < UNITS; u++) {
        let ju = first + u;
        if (ju >= H) { break; }
        let pick = u > 0u;  // unit j + 1: the `b` sums
        update_unit(d, t, 0u, b0, ju, select(acc0.a, acc0.b, pick), t < len0, cur, nxt);
        if (BLOCK_B > 1u && rows > 1u) { update_unit(d, t, 1u, b0 + 1u, ju, select(acc1.a, acc1.b, pick), t < len1, cur, nxt); }
        if (BLOCK_B > 2u && rows > 2u) { update_unit(d, t, 2u, b0 + 2u, ju, select(acc2.a, acc2.b, pick), t < len2, cur, nxt); }
        if (BLOCK_B > 3u && rows > 3u) { update_unit(d, t, 3u, b0 + 3u, ju, select(acc3.a, acc3.b, pick), t < len3, cur, nxt); }
        if (BLOCK_B > 4u && rows > 4u) { update_unit(d, t, 4u, b0 + 4u, ju, select(acc4.a, acc4.b, pick), t < len4, cur, nxt); }
        if (BLOCK_B > 5u && rows > 5u) { update_unit(d, t, 5u, b0 + 5u, ju, select(acc5.a, acc5.b, pick), t < len5, cur, nxt); }
        if (BLOCK_B > 6u && rows > 6u) { update_unit(d, t, 6u, b0 + 6u, ju, select(acc6.a, acc6.b, pick), t < len6, cur, nxt); }
        if (BLOCK_B > 7u && rows > 7u) { update_unit(d, t, 7u, b0 + 7u, ju, select(acc7.a, acc7.b, pick), t < len7, cur, nxt); }
      }
    }
    if (HAS_PROJ) {
      workgroupBarrier();  // every h_raw of this step is written
      // h = W_hr·h_raw from workgroup memory (projection.wgsl does the same from a buffer).
      let raw = 2u * block_h;
      for (var u = lid; u < rows * K; u += WORKGROUP_SIZE) {
        let p = u % K;
        let r = u / K;
        let b = b0 + r;
        let valid = t < lengths[b];
        var acc = 0.0;
        let w_row = (d * K + p) * H;
        for (var k = 0u; k < H; k++) { acc = fma(w_hr_at(w_row + k), shared_f[raw + r * H + k], acc); }
        shared_f[nxt + u] = select(shared_f[cur + u], acc * recurrent_scale(state_h + u), valid);
        if (RECURRENT_MASK && valid) { state[state_h + u] = acc; }  // u is this invocation's at every step
        out[out_index(t, b, d, p)] = select(0.0, acc, valid);
      }
    }
    workgroupBarrier();  // h_t complete before anyone reads it as h_{t−1}
  }

  let last = (T % 2u) * block_h;
  if (!RECURRENT_MASK) {
    for (var e = lid; e < rows * K; e += WORKGROUP_SIZE) { state[state_h + e] = shared_f[last + e]; }
  }
  if (CACHE_K > 0u && MODE == MODE_LSTM && lid < H) { state[c_index(d, b0, lid)] = c_cached; }
}
