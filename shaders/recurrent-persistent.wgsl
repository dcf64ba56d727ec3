// A whole layer in one dispatch: the time loop runs inside the workgroups, with h kept in workgroup
// memory and a workgroupBarrier() between steps, so a sequence costs one dispatch per layer instead
// of 1 + T. Directions and batch rows are independent sequences, so the dispatch has one workgroup per
// (direction d, block of BLOCK_B batch rows): workgroup_id.x = d·blocks + block. For shapes whose
// state per block fits one workgroup's memory (the on-device case; small and moderate H).
//
// Per step s, invocation lid owns hidden units j = lid, lid + WORKGROUP_SIZE, … of its direction, for
// every row of its block: it loads each W_hh element once and uses it for all the block's rows (as
// the per-step kernel's batch blocks do). For each (row, j) it takes the input projection — from
// `gx`, made for all steps by the matmul kernel, or (INLINE_INPUT) computed here — adds the recurrent
// term W_hh·h_{t−1} + b_hh from the h held in workgroup memory, and applies the cell update (prelude's
// cell_update). Direction 0 runs t = s, direction 1 (reverse) t = T−1−s; a row with t ≥ lengths[b]
// keeps its state and outputs zero (packed-sequence semantics), as in the per-step kernel.
//
// Workgroup memory `shared_f` (SHARED_FLOATS f32): the block's h double-buffered — (BLOCK_B, H_out)
// at 0 and at BLOCK_B·H_out, read one, written the other, swapped every step so one barrier a step
// suffices — then, with projection, h_raw (BLOCK_B, H) at 2·BLOCK_B·H_out. The host checks that this
// fits. Cell state c stays in the `state` buffer: each (row, unit)'s c is read and written only by its
// owner. `state` holds h (D, B, H_out) then c (D, B, H) (LSTM); it is read at the start and holds the
// final state at the end. Weights are the layer's packed `params` (gate-interleaved, see
// src/gpu/layer-weights.ts) at the offsets the uniform gives.

override MODE: u32 = MODE_LSTM;
override HAS_PROJ: bool = false;
override WORKGROUP_SIZE: u32 = 256u;
override BLOCK_B: u32 = 1u;  // batch rows per workgroup: 1, 2, 4 or 8
// true: compute W_ih·x_t + b_ih inside the loop (1 dispatch per layer); false: read it from `gx`,
// precomputed for all steps by the matmul kernel (2 dispatches per layer, less serial work).
override INLINE_INPUT: bool = true;

const SHARED_FLOATS = 4096u;  // 16 KiB: the minimum maxComputeWorkgroupStorageSize WebGPU guarantees

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
  _pad0: u32,
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

var<workgroup> shared_f: array<f32, SHARED_FLOATS>;

// One packed weight element, widened to f32 (see the weights-*.wgsl headers).
fn param4(i: u32) -> vec4<f32> {
  return widen4(params[i]);
}

// Element i of W_hr (stored two to a weight2).
fn w_hr_at(i: u32) -> f32 {
  let pair = widen2(w_hr[i / 2u]);
  return select(pair.x, pair.y, (i & 1u) == 1u);
}

fn time_at(d: u32, s: u32) -> u32 {
  return select(s, dims.T - 1u - s, d == 1u);
}

// h_{t−1}[i … i + 3] of one row, from workgroup memory. With subgroups, invocation q of each subgroup
// loads element i + q and broadcasts it: one load per invocation instead of four (call it in uniform
// control flow).
fn h_quad(i: u32, lane: u32) -> vec4<f32> {
  if (SUBGROUPS) { return lane_scalars(shared_f[i + lane % 4u]); }
  return vec4<f32>(shared_f[i], shared_f[i + 1u], shared_f[i + 2u], shared_f[i + 3u]);
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
// h_{t−1} of the block is at `cur` in workgroup memory, h_t goes to `nxt`.
fn update_unit(d: u32, t: u32, r: u32, b: u32, j: u32, rec: vec4<f32>, cur: u32, nxt: u32) {
  let H = dims.H;
  let K = dims.H_out;
  let valid = t < lengths[b];
  let c_index = dims.D * dims.B * K + (d * dims.B + b) * H + j;
  var c_prev = 0.0;
  if (MODE == MODE_LSTM) { c_prev = state[c_index]; }
  var h_prev = 0.0;
  if (!HAS_PROJ) { h_prev = shared_f[cur + r * K + j]; }  // K = H without projection
  let hc = cell_update(MODE, input_projection(d, t, b, j), rec, h_prev, c_prev);
  if (MODE == MODE_LSTM) { state[c_index] = select(c_prev, hc.y, valid); }
  if (HAS_PROJ) {
    shared_f[2u * BLOCK_B * K + r * H + j] = hc.x;  // h_raw; the projection below applies W_hr
  } else {
    shared_f[nxt + r * K + j] = select(h_prev, hc.x, valid);
    out[(t * dims.B + b) * dims.D * K + d * K + j] = select(0.0, hc.x, valid);
  }
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
  let state_h = (d * B + b0) * K;    // the block's h in `state`: rows × K, contiguous

  for (var e = lid; e < rows * K; e += WORKGROUP_SIZE) { shared_f[e] = state[state_h + e]; }
  workgroupBarrier();

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
    for (var j0 = 0u; j0 < H; j0 += WORKGROUP_SIZE) {
      let j = min(j0 + lid, H - 1u);
      // W_hh·h_{t−1} for every row of the block: one W load serves them all. Separate accumulators
      // (not an array) stay in registers; BLOCK_B is a pipeline constant, unused ones compile away.
      let bias = param4(dims.b_hh_offset + d * H + j);
      var acc0 = bias;
      var acc1 = bias;
      var acc2 = bias;
      var acc3 = bias;
      var acc4 = bias;
      var acc5 = bias;
      var acc6 = bias;
      var acc7 = bias;
      var wh = dims.w_hh_offset + d * K * H + j;
      var k = 0u;
      for (; k + 4u <= K; k += 4u) {  // four k per pass: 4 W loads for 4·BLOCK_B vec4 FMAs
        let w0 = param4(wh);
        let w1 = param4(wh + H);
        let w2 = param4(wh + 2u * H);
        let w3 = param4(wh + 3u * H);
        wh += 4u * H;
        acc0 = fma4(w0, w1, w2, w3, h_quad(h0 + k, lane), acc0);
        if (BLOCK_B > 1u) { acc1 = fma4(w0, w1, w2, w3, h_quad(h1 + k, lane), acc1); }
        if (BLOCK_B > 2u) {
          acc2 = fma4(w0, w1, w2, w3, h_quad(h2 + k, lane), acc2);
          acc3 = fma4(w0, w1, w2, w3, h_quad(h3 + k, lane), acc3);
        }
        if (BLOCK_B > 4u) {
          acc4 = fma4(w0, w1, w2, w3, h_quad(h4 + k, lane), acc4);
          acc5 = fma4(w0, w1, w2, w3, h_quad(h5 + k, lane), acc5);
          acc6 = fma4(w0, w1, w2, w3, h_quad(h6 + k, lane), acc6);
          acc7 = fma4(w0, w1, w2, w3, h_quad(h7 + k, lane), acc7);
        }
      }
      for (; k < K; k++) {
        let w = param4(wh);
        wh += H;
        acc0 = fma(w, vec4<f32>(shared_f[h0 + k]), acc0);
        if (BLOCK_B > 1u) { acc1 = fma(w, vec4<f32>(shared_f[h1 + k]), acc1); }
        if (BLOCK_B > 2u) {
          acc2 = fma(w, vec4<f32>(shared_f[h2 + k]), acc2);
          acc3 = fma(w, vec4<f32>(shared_f[h3 + k]), acc3);
        }
        if (BLOCK_B > 4u) {
          acc4 = fma(w, vec4<f32>(shared_f[h4 + k]), acc4);
          acc5 = fma(w, vec4<f32>(shared_f[h5 + k]), acc5);
          acc6 = fma(w, vec4<f32>(shared_f[h6 + k]), acc6);
          acc7 = fma(w, vec4<f32>(shared_f[h7 + k]), acc7);
        }
      }
      // rows ≤ BLOCK_B already; testing the pipeline constant too lets the compiler drop the rows a
      // narrow block cannot have (measured: long-lstm, B = 1, was ~20% slower without it).
      if (j0 + lid < H) {
        update_unit(d, t, 0u, b0, j, acc0, cur, nxt);
        if (BLOCK_B > 1u && rows > 1u) { update_unit(d, t, 1u, b0 + 1u, j, acc1, cur, nxt); }
        if (BLOCK_B > 2u && rows > 2u) { update_unit(d, t, 2u, b0 + 2u, j, acc2, cur, nxt); }
        if (BLOCK_B > 3u && rows > 3u) { update_unit(d, t, 3u, b0 + 3u, j, acc3, cur, nxt); }
        if (BLOCK_B > 4u && rows > 4u) { update_unit(d, t, 4u, b0 + 4u, j, acc4, cur, nxt); }
        if (BLOCK_B > 5u && rows > 5u) { update_unit(d, t, 5u, b0 + 5u, j, acc5, cur, nxt); }
        if (BLOCK_B > 6u && rows > 6u) { update_unit(d, t, 6u, b0 + 6u, j, acc6, cur, nxt); }
        if (BLOCK_B > 7u && rows > 7u) { update_unit(d, t, 7u, b0 + 7u, j, acc7, cur, nxt); }
      }
    }
    if (HAS_PROJ) {
      workgroupBarrier();  // every h_raw of this step is written
      let raw = 2u * block_h;
      for (var u = lid; u < rows * K; u += WORKGROUP_SIZE) {
        let p = u % K;
        let r = u / K;
        let b = b0 + r;
        let valid = t < lengths[b];
        var acc = 0.0;
        let w_row = (d * K + p) * H;
        for (var k = 0u; k < H; k++) { acc = fma(w_hr_at(w_row + k), shared_f[raw + r * H + k], acc); }
        shared_f[nxt + u] = select(shared_f[cur + u], acc, valid);
        out[(t * B + b) * dims.D * K + d * K + p] = select(0.0, acc, valid);
      }
    }
    workgroupBarrier();  // h_t complete before anyone reads it as h_{t−1}
  }

  let last = (T % 2u) * block_h;
  for (var e = lid; e < rows * K; e += WORKGROUP_SIZE) { state[state_h + e] = shared_f[last + e]; }
}
