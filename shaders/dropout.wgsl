// Dropout between layers (training), forward and backward alike: out[i] = in[i] · scale(i), where
// scale is 1/(1 − p) for an element that survives and 0 for one that is dropped. Whether element i
// survives is uniform01(seed, stream, i) ≥ p — a pure function of its index (src/reference/rng.ts has the
// same one; train-rng.wgsl is its WGSL), so the backward pass redraws the forward's mask instead of
// keeping it. In place is allowed (`inout`), one invocation per element. With FILL the values are
// taken to be 1: `inout` receives the mask's scales themselves (recurrent dropout's mask on h_{t−1}).

override WORKGROUP_SIZE: u32 = 64u;
override FILL: bool = false;

struct DropoutDims {
  n: u32,
  seed: u32,
  stream: u32,
  p: f32,
}

@group(0) @binding(0) var<uniform> dims: DropoutDims;
@group(0) @binding(1) var<storage, read_write> inout: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn dropout(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.n) { return; }
  let keep = uniform01(dims.seed, dims.stream, i) >= dims.p;
  var v = 1.0;
  if (!FILL) { v = inout[i]; }
  inout[i] = select(0.0, v / (1.0 - dims.p), keep);
}
