// tanh as a layer's activation, in place, and its backward: dx = dy · (1 − y²) from the output y.
// One invocation per element.

override WORKGROUP_SIZE: u32 = 64u;

struct TanhDims {
  n: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> dims: TanhDims;
@group(0) @binding(1) var<storage, read> y: array<f32>;            // backward: the forward's output
@group(0) @binding(2) var<storage, read_write> values: array<f32>; // forward: x → tanh x; backward: dy → dx

@compute @workgroup_size(WORKGROUP_SIZE)
fn tanh_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.n) { return; }
  values[i] = tanh_safe(values[i]);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn tanh_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.n) { return; }
  let t = y[i];
  values[i] = values[i] * (1.0 - t * t);
}
