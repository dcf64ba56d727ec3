// LSTM projection of one time step (proj_size P > 0), after recurrent-step.wgsl's `step` has written
// h_raw = o·tanh(c) for every unit: h_t = W_hr·h_raw for each (direction d, batch row b, output p),
// one invocation each, with the step's length mask (past its end a row keeps its h and outputs zero).
// It reads and writes the same state buffers, step index and uniform as `step` (the same bind-group
// layouts for groups 1 and 2); recurrent-persistent.wgsl does the same product inside its time loop,
// from workgroup memory (a different address space, so the loop is not shared).

override WORKGROUP_SIZE: u32 = 64u;
override W_TEXTURE: bool = false;  // not used here (recurrent-common.wgsl reads it)

struct StepDims {  // as in recurrent-step.wgsl (test/uniforms.test.ts checks both against the packer)
  T: u32,
  B: u32,
  H: u32,
  H_out: u32,
  D: u32,
  w_hh_offset: u32,
  b_hh_offset: u32,
  w_hr_offset: u32,  // element index of W_hr in `w_hr`
}

struct StepIndex {
  s: u32,
}

@group(0) @binding(0) var<uniform> dims: StepDims;
@group(0) @binding(1) var<storage, read> lengths: array<u32>;       // (B)
@group(0) @binding(3) var<storage, read> params: array<weight4>;    // not used here (recurrent-common.wgsl names it)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;     // (T, B, D·P)
@group(0) @binding(5) var<storage, read> w_hr: array<weight2>;      // (D, P, H)
@group(0) @binding(6) var<storage, read> h_raw: array<f32>;         // (D, B, H)
@group(0) @binding(7) var w_hh_tex: texture_2d<f32>;                // not used here (recurrent-common.wgsl names it)
@group(1) @binding(0) var<storage, read> state_prev: array<f32>;    // h (D, B, P) then c (D, B, H)
@group(1) @binding(1) var<storage, read_write> state_next: array<f32>;
@group(2) @binding(0) var<uniform> step_index: StepIndex;

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
  let t = time_at(d, step_index.s);
  let valid = t < lengths[b];

  var acc = 0.0;
  let raw_base = (d * B + b) * H;
  let w_base = (d * P + p) * H;
  for (var k = 0u; k < H; k++) {
    acc = fma(w_hr_at(w_base + k), h_raw[raw_base + k], acc);
  }
  let hi = h_index(d, b, p);
  state_next[hi] = select(state_prev[hi], acc, valid);
  out[out_index(t, b, d, p)] = select(0.0, acc, valid);
}
