// One time step of one layer, all directions at once: the recurrent half of PyTorch's RNN / LSTM / GRU.
//
// Entry `step`: one invocation per hidden unit (d, b, j) of D·B·H. It adds the recurrent term
// W_hh·h_{t−1} + b_hh to the precomputed input projection gx = W_ih·x_t + b_ih of the same gate rows,
// applies the gate activations and updates the state. Gate order as PyTorch stacks the rows:
// LSTM i, f, g, o; GRU r, z, n (r multiplies W_hn·h + b_hn); RNN a single row.
// Entry `project` (LSTM with proj_size P only): one invocation per (d, b, p) of D·B·P, h = W_hr·h_raw.
//
// Time: the host dispatches step s = 0 … T−1 in order; direction 0 handles t = s, direction 1 (reverse)
// t = T−1−s. A row b with t ≥ lengths[b] is past its sequence end: its state passes through unchanged
// and its output is zero, which gives packed-sequence semantics (the reverse direction then starts at
// each sequence's own last element, from h0).
//
// State: two buffers, read `state_prev`, write `state_next`, swapped by the host every step
// (ping-pong bind groups). Each holds h (D, B, H_out) followed by c (D, B, H) for LSTM.
// Specialised by override constants: MODE, HAS_PROJ, WORKGROUP_SIZE; sizes come from the uniform.

const MODE_RNN_TANH = 0u;
const MODE_RNN_RELU = 1u;
const MODE_LSTM = 2u;
const MODE_GRU = 3u;

override MODE: u32 = MODE_LSTM;
override HAS_PROJ: bool = false;   // LSTM proj_size > 0: `step` writes h_raw to `out`, `project` does the rest
override WORKGROUP_SIZE: u32 = 64u;

struct StepDims {
  T: u32,       // steps in this call
  B: u32,       // batch rows
  H: u32,       // hidden_size
  H_out: u32,   // proj_size if projecting, else hidden_size
  D: u32,       // directions
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

struct StepIndex {
  s: u32,       // loop counter of this dispatch, 0 … T−1
}

@group(0) @binding(0) var<uniform> dims: StepDims;
@group(0) @binding(1) var<storage, read> lengths: array<u32>;       // (B)
@group(0) @binding(2) var<storage, read> gx: array<f32>;            // (D, T, B, G·H)  W_ih·x + b_ih
@group(0) @binding(3) var<storage, read> w_hh: array<f32>;          // (D, G·H, H_out)
@group(0) @binding(4) var<storage, read> b_hh: array<f32>;          // (D, G·H)
@group(0) @binding(5) var<storage, read_write> out: array<f32>;     // (T, B, D·H_out), or h_raw (D, B, H) when HAS_PROJ
@group(0) @binding(6) var<storage, read> w_hr: array<f32>;          // (D, P, H)
@group(0) @binding(7) var<storage, read> h_raw: array<f32>;         // (D, B, H)
@group(1) @binding(0) var<storage, read> state_prev: array<f32>;    // h (D, B, H_out) then c (D, B, H)
@group(1) @binding(1) var<storage, read_write> state_next: array<f32>;
@group(2) @binding(0) var<uniform> step_index: StepIndex;

fn gate_count() -> u32 {
  switch MODE {
    case MODE_LSTM: { return 4u; }
    case MODE_GRU: { return 3u; }
    default: { return 1u; }
  }
}

// Time index direction d processes at this step.
fn time_of(d: u32) -> u32 {
  return select(step_index.s, dims.T - 1u - step_index.s, d == 1u);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let unit = linear_index(gid, groups, WORKGROUP_SIZE);
  let H = dims.H;
  let B = dims.B;
  if (unit >= dims.D * B * H) { return; }
  let j = unit % H;
  let b = (unit / H) % B;
  let d = unit / (B * H);
  let G = gate_count();
  let GH = G * H;
  let t = time_of(d);
  let valid = t < lengths[b];

  // Recurrent term for each gate row of unit j: acc[g] = b_hh[g·H + j] + Σ_k W_hh[g·H + j, k] · h_prev[k].
  var acc: array<f32, 4>;
  for (var g = 0u; g < G; g++) { acc[g] = b_hh[d * GH + g * H + j]; }
  let h_base = (d * B + b) * dims.H_out;
  for (var k = 0u; k < dims.H_out; k++) {
    let hk = state_prev[h_base + k];
    for (var g = 0u; g < G; g++) {
      acc[g] = fma(w_hh[(d * GH + g * H + j) * dims.H_out + k], hk, acc[g]);
    }
  }
  let x_base = ((d * dims.T + t) * B + b) * GH + j;  // gx row of (d, t, b), gate 0, unit j

  var h_new: f32;
  switch MODE {
    case MODE_LSTM: {
      let c_index = dims.D * B * dims.H_out + (d * B + b) * H + j;
      let c_prev = state_prev[c_index];
      let i = sigmoid(gx[x_base] + acc[0]);
      let f = sigmoid(gx[x_base + H] + acc[1]);
      let g = tanh_safe(gx[x_base + 2u * H] + acc[2]);
      let o = sigmoid(gx[x_base + 3u * H] + acc[3]);
      let c_new = fma(f, c_prev, i * g);
      state_next[c_index] = select(c_prev, c_new, valid);
      h_new = o * tanh_safe(c_new);
    }
    case MODE_GRU: {
      let r = sigmoid(gx[x_base] + acc[0]);
      let z = sigmoid(gx[x_base + H] + acc[1]);
      let n = tanh_safe(fma(r, acc[2], gx[x_base + 2u * H]));
      h_new = fma(z, state_prev[h_base + j] - n, n);  // (1 − z)·n + z·h
    }
    case MODE_RNN_RELU: {
      h_new = max(gx[x_base] + acc[0], 0.0);
    }
    default: {  // MODE_RNN_TANH
      h_new = tanh_safe(gx[x_base] + acc[0]);
    }
  }

  if (HAS_PROJ) {
    out[(d * B + b) * H + j] = h_new;  // h_raw; `project` applies W_hr and the length mask
  } else {
    state_next[h_base + j] = select(state_prev[h_base + j], h_new, valid);
    out[(t * B + b) * dims.D * H + d * H + j] = select(0.0, h_new, valid);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn project(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let unit = linear_index(gid, groups, WORKGROUP_SIZE);
  let P = dims.H_out;
  let B = dims.B;
  let H = dims.H;
  if (unit >= dims.D * B * P) { return; }
  let p = unit % P;
  let b = (unit / P) % B;
  let d = unit / (B * P);
  let t = time_of(d);
  let valid = t < lengths[b];

  var acc = 0.0;
  let raw_base = (d * B + b) * H;
  let w_base = (d * P + p) * H;
  for (var k = 0u; k < H; k++) {
    acc = fma(w_hr[w_base + k], h_raw[raw_base + k], acc);
  }
  let h_index = (d * B + b) * P + p;
  state_next[h_index] = select(state_prev[h_index], acc, valid);
  out[(t * B + b) * dims.D * P + d * P + p] = select(0.0, acc, valid);
}
