// Lane-sharing header without subgroups (see lanes-subgroups.wgsl): every invocation loads what it
// needs itself; kernels take their `SUBGROUPS = false` branch, so these are never called.
const SUBGROUPS = false;

fn subgroup_lane() -> u32 {
  return 0u;
}

fn lane_values(v: vec4<f32>) -> Lanes4 {
  return Lanes4(v, v, v, v);
}

fn lane_scalars(v: f32) -> vec4<f32> {
  return vec4<f32>(v);
}

fn quad_u32(v: u32) -> vec4<u32> {
  return vec4<u32>(v);
}

fn quad_sum(v: vec4<f32>) -> vec4<f32> {
  return v;
}
