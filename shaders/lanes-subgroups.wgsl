// Lane-sharing header, on devices with the `subgroups` feature (src/gpu/wgsl.ts also adds `enable
// subgroups;`). Values every invocation of a subgroup needs — the same rows of A in the matmul — are
// loaded once per subgroup, one row per invocation, and passed around with subgroupBroadcast: on a
// software adapter every load is a per-lane gather, so this saves most of them; on a GPU it saves
// redundant loads of one address. WebGPU subgroups have at least 4 invocations.
const SUBGROUPS = true;

// This invocation's index in its subgroup. A scan, since the builtin can only be an entry-point
// parameter (and those differ between this header and lanes-plain.wgsl); call it in uniform control
// flow, with every invocation of the subgroup active.
fn subgroup_lane() -> u32 {
  return subgroupExclusiveAdd(1u);
}

// What invocations 0, 1, 2 and 3 of this subgroup hold in v (constant lanes: a broadcast, which
// costs a software adapter far less than a shuffle by a variable lane). Lanes4 is in the prelude.
fn lane_values(v: vec4<f32>) -> Lanes4 {
  return Lanes4(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u));
}

// The scalars invocations 0, 1, 2 and 3 hold in v, as one vector.
fn lane_scalars(v: f32) -> vec4<f32> {
  return vec4<f32>(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u));
}

// What the four invocations of this invocation's quad (four consecutive lanes of the subgroup) hold in v.
fn quad_u32(v: u32) -> vec4<u32> {
  return vec4<u32>(quadBroadcast(v, 0u), quadBroadcast(v, 1u), quadBroadcast(v, 2u), quadBroadcast(v, 3u));
}

// v summed over the four invocations of this invocation's quad, for each of them.
fn quad_sum(v: vec4<f32>) -> vec4<f32> {
  let x = v + quadSwapX(v);
  return x + quadSwapY(x);
}
