// A sum over many floats in a fixed order (reproducible, no atomics): each workgroup sums a slice of
// `values` — squared, clamped first to ±clip where clip > 0 (the gradient norm after clip_grad_value_),
// or as they are (a loss) — in a tree in workgroup memory and writes one partial; a second dispatch of
// one workgroup with FINAL, over the partials themselves, leaves the total at partials[dims.out].

override WORKGROUP_SIZE: u32 = 256u;
override SQUARE: bool = false;
override FINAL: bool = false;   // sum partials[offset …] (the first pass's), not values

struct ReduceDims {
  n: u32,          // values to sum
  offset: u32,     // first value's index
  out: u32,        // where this pass writes: partial g at out + g
  clip: f32,       // SQUARE: clamp to ±clip first (0: no clamp)
}

@group(0) @binding(0) var<uniform> dims: ReduceDims;
@group(0) @binding(1) var<storage, read> values: array<f32>;        // not read with FINAL (any other buffer)
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

var<workgroup> tree: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn reduce(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  // Each invocation first sums a strided run of the workgroup's slice.
  let per_group = (dims.n + groups.x - 1u) / groups.x;
  let start = wid.x * per_group;
  let stop = min(start + per_group, dims.n);
  var acc = 0.0;
  for (var i = start + lid; i < stop; i += WORKGROUP_SIZE) {
    var v: f32;
    if (FINAL) { v = partials[dims.offset + i]; } else { v = values[dims.offset + i]; }
    if (SQUARE && !FINAL) {
      if (dims.clip > 0.0) { v = clamp(v, -dims.clip, dims.clip); }
      v = v * v;
    }
    acc += v;
  }
  tree[lid] = acc;
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width /= 2u) {
    if (lid < width) { tree[lid] += tree[lid + width]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[dims.out + wid.x] = tree[0]; }
}
