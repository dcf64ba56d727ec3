// Between a recurrent layer's final state and the features a head reads: cat(h_n[−D:]), the last
// layer's final h of every direction side by side per batch row.
// (The same move serves an encoder–decoder's bridge: a layer's final state, directions side by side.)
// Entry `gather`: features[b, d·H_out + k] = state[(d·B + b)·H_out + k]           (B, D·H_out) ← (D, B, H_out)
// Entry `scatter`: state[(d·B + b)·H_out + k] = features[b, d·H_out + k]          the way back (gradients)
// Both from float offsets into their buffers. One invocation per element of the D·B·H_out.

override WORKGROUP_SIZE: u32 = 64u;

struct LastStateDims {
  B: u32,
  H_out: u32,
  D: u32,
  state_offset: u32,     // float offsets of the state and of the features in their buffers
  features_offset: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> dims: LastStateDims;
@group(0) @binding(1) var<storage, read> source: array<f32>;
@group(0) @binding(2) var<storage, read_write> dest: array<f32>;

fn parts(i: u32) -> vec3<u32> {  // (d, b, k) of state element i
  return vec3<u32>(i / (dims.B * dims.H_out), (i / dims.H_out) % dims.B, i % dims.H_out);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.D * dims.B * dims.H_out) { return; }
  let p = parts(i);
  dest[dims.features_offset + p.y * dims.D * dims.H_out + p.x * dims.H_out + p.z] = source[dims.state_offset + i];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn scatter(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups, WORKGROUP_SIZE);
  if (i >= dims.D * dims.B * dims.H_out) { return; }
  let p = parts(i);
  dest[dims.state_offset + i] = source[dims.features_offset + p.y * dims.D * dims.H_out + p.x * dims.H_out + p.z];
}
