// tanh as a layer's activation, in place, and its backward: dx = dy · (1 − y²) from the output y.
// Entries `tanh_forward` / `tanh_backward`: one invocation per element. The `_vec4` entries (n and the
// offsets multiples of 4): VECTORS vec4s per invocation (elementwise.ts, vectorsPerInvocation).

override WORKGROUP_SIZE: u32 = 64u;
override VECTORS: u32 = 1u;

struct TanhDims {
  n: u32,
  y: u32,       // float offsets of y (backward) and of the values in their buffers
  values: u32,
  _pad0: u32,
}

@group(0) @binding(0) var<uniform> dims: TanhDims;
@group(0) @binding(1) var<storage, read> y: array<f32>;            // backward: the forward's output
@group(0) @binding(2) var<storage, read_write> values: array<f32>; // forward: x → tanh x; backward: dy → dx
// The same buffers as vec4s, for the `_vec4` entries (an entry uses one view or the other).
@group(0) @binding(1) var<storage, read> y4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> values4: array<vec4<f32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn tanh_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.n) { return; }
  values[dims.values + i] = tanh_safe(values[dims.values + i]);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn tanh_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.n) { return; }
  let t = y[dims.y + i];
  values[dims.values + i] = values[dims.values + i] * (1.0 - t * t);
}

fn tanh_safe4(v: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(tanh_safe(v.x), tanh_safe(v.y), tanh_safe(v.z), tanh_safe(v.w));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn tanh_forward_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i0 = linear_index(gid, groups, WORKGROUP_SIZE) * VECTORS;
  if (i0 >= dims.n / 4u) { return; }
  let at = dims.values / 4u + i0;
  for (var v = 0u; v < VECTORS; v++) { values4[at + v] = tanh_safe4(values4[at + v]); }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn tanh_backward_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i0 = linear_index(gid, groups, WORKGROUP_SIZE) * VECTORS;
  if (i0 >= dims.n / 4u) { return; }
  let at = dims.values / 4u + i0;
  let y_at = dims.y / 4u + i0;
  for (var v = 0u; v < VECTORS; v++) {
    let t = y4[y_at + v];
    values4[at + v] = values4[at + v] * (1.0 - t * t);
  }
}
