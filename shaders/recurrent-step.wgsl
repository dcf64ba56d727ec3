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
// Specialised by override constants: MODE, HAS_PROJ, WORKGROUP_SIZE, BLOCK_B, H_VEC4; sizes come from
// the uniform, the layer's weight offsets too. Shared helpers (param4, time_at, h_index, c_index,
// out_index) are in recurrent-common.wgsl.

override MODE: u32 = MODE_LSTM;
override HAS_PROJ: bool = false;   // LSTM proj_size > 0: `step` writes h_raw to `out`, projection.wgsl does the rest
override WORKGROUP_SIZE: u32 = 64u;
override BLOCK_B: u32 = 1u;        // batch rows per invocation: 1, 2, 4 or 8 (8: software adapters)
override H_VEC4: bool = false;     // H_out % 4 == 0: read h_{t−1} four columns per load (`state_prev4`)
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
  let h4 = (d * B + b0 + min(4u, rows - 1u)) * K;
  let h5 = (d * B + b0 + min(5u, rows - 1u)) * K;
  let h6 = (d * B + b0 + min(6u, rows - 1u)) * K;
  let h7 = (d * B + b0 + min(7u, rows - 1u)) * K;

  // One accumulator per batch row, lanes are gates. Separate variables (not an array) stay in
  // registers on every backend; BLOCK_B is a pipeline constant, so the unused ones compile away.
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
  var w_index = dims.w_hh_offset + d * K * H + j;
  var k = 0u;
  if (H_VEC4) {
    // Four k per pass: 4 W loads and BLOCK_B h loads for 4·BLOCK_B FMAs (rows start 16-byte aligned).
    for (; k < K; k += 4u) {
      let w0 = param4(w_index);
      let w1 = param4(w_index + H);
      let w2 = param4(w_index + 2u * H);
      let w3 = param4(w_index + 3u * H);
      w_index += 4u * H;
      let x0 = state_prev4[(h0 + k) / 4u] * scale4(h0 + k);
      acc0 = fma4(w0, w1, w2, w3, x0, acc0);
      if (BLOCK_B > 1u) {
        let x1 = state_prev4[(h1 + k) / 4u] * scale4(h1 + k);
        acc1 = fma4(w0, w1, w2, w3, x1, acc1);
      }
      if (BLOCK_B > 2u) {
        let x2 = state_prev4[(h2 + k) / 4u] * scale4(h2 + k);
        let x3 = state_prev4[(h3 + k) / 4u] * scale4(h3 + k);
        acc2 = fma4(w0, w1, w2, w3, x2, acc2);
        acc3 = fma4(w0, w1, w2, w3, x3, acc3);
      }
      if (BLOCK_B > 4u) {
        let x4 = state_prev4[(h4 + k) / 4u] * scale4(h4 + k);
        let x5 = state_prev4[(h5 + k) / 4u] * scale4(h5 + k);
        let x6 = state_prev4[(h6 + k) / 4u] * scale4(h6 + k);
        let x7 = state_prev4[(h7 + k) / 4u] * scale4(h7 + k);
        acc4 = fma4(w0, w1, w2, w3, x4, acc4);
        acc5 = fma4(w0, w1, w2, w3, x5, acc5);
        acc6 = fma4(w0, w1, w2, w3, x6, acc6);
        acc7 = fma4(w0, w1, w2, w3, x7, acc7);
      }
    }
  }
  // The k remainder (recurrent-persistent.wgsl has the same loop over h in workgroup memory; see there).
  for (; k < K; k++) {
    let w = param4(w_index);
    w_index += H;
    acc0 = fma(w, vec4<f32>(state_prev[h0 + k] * recurrent_scale(h0 + k)), acc0);
    if (BLOCK_B > 1u) { acc1 = fma(w, vec4<f32>(state_prev[h1 + k] * recurrent_scale(h1 + k)), acc1); }
    if (BLOCK_B > 2u) {
      acc2 = fma(w, vec4<f32>(state_prev[h2 + k] * recurrent_scale(h2 + k)), acc2);
      acc3 = fma(w, vec4<f32>(state_prev[h3 + k] * recurrent_scale(h3 + k)), acc3);
    }
    if (BLOCK_B > 4u) {
      acc4 = fma(w, vec4<f32>(state_prev[h4 + k] * recurrent_scale(h4 + k)), acc4);
      acc5 = fma(w, vec4<f32>(state_prev[h5 + k] * recurrent_scale(h5 + k)), acc5);
      acc6 = fma(w, vec4<f32>(state_prev[h6 + k] * recurrent_scale(h6 + k)), acc6);
      acc7 = fma(w, vec4<f32>(state_prev[h7 + k] * recurrent_scale(h7 + k)), acc7);
    }
  }
  let bias = param4(dims.b_hh_offset + d * H + j);
  update_unit(d, b0, j, acc0 + bias);
  if (rows > 1u) { update_unit(d, b0 + 1u, j, acc1 + bias); }
  if (rows > 2u) { update_unit(d, b0 + 2u, j, acc2 + bias); }
  if (rows > 3u) { update_unit(d, b0 + 3u, j, acc3 + bias); }
  if (rows > 4u) { update_unit(d, b0 + 4u, j, acc4 + bias); }
  if (rows > 5u) { update_unit(d, b0 + 5u, j, acc5 + bias); }
  if (rows > 6u) { update_unit(d, b0 + 6u, j, acc6 + bias); }
  if (rows > 7u) { update_unit(d, b0 + 7u, j, acc7 + bias); }
}
