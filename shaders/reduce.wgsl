// A sum over many floats in a fixed order (reproducible, no atomics, no barriers): in the first pass
// invocation p of P (all the dispatch's invocations) sums values p, p + P, p + 2P, … — squared, clamped
// first to ±clip where clip > 0 (the gradient norm after clip_grad_value_), or as they are (a loss) —
// into partials[out + p]; a second pass with FINAL, one invocation, sums those P partials in order
// into partials[out]. Entry `reduce_vec4` (the offset a multiple of 4) is the first pass over vec4s:
// invocation p sums quads p, p + P, … lane by lane, adds its four lanes, and invocation 0 the last
// n mod 4 values. No workgroup memory or barriers: on software adapters each barrier switches every
// invocation's context, which made a tree reduction of 256-wide workgroups the slowest part of a step.

override WORKGROUP_SIZE: u32 = 64u;
override SQUARE: bool = false;
override FINAL: bool = false;   // sum partials[offset …] (the first pass's), not values

struct ReduceDims {
  n: u32,          // values to sum
  offset: u32,     // first value's index
  out: u32,        // where this pass writes: partial p at out + p
  clip: f32,       // SQUARE: clamp to ±clip first (0: no clamp)
}

@group(0) @binding(0) var<uniform> dims: ReduceDims;
@group(0) @binding(1) var<storage, read> values: array<f32>;        // not read with FINAL (any other buffer)
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
@group(0) @binding(1) var<storage, read> values4: array<vec4<f32>>;  // `values` as vec4s, for reduce_vec4

// SQUARE: v clamped to ±clip (clip > 0) and squared; else v.
fn term4(v: vec4<f32>) -> vec4<f32> {
  if (!SQUARE) { return v; }
  var c = v;
  if (dims.clip > 0.0) { c = clamp(c, vec4<f32>(-dims.clip), vec4<f32>(dims.clip)); }
  return c * c;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn reduce(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  if (FINAL) {
    if (gid.x != 0u) { return; }
    var total = 0.0;
    for (var i = 0u; i < dims.n; i++) { total += partials[dims.offset + i]; }
    partials[dims.out] = total;
    return;
  }
  let parts = groups.x * WORKGROUP_SIZE;
  var acc = 0.0;
  for (var i = gid.x; i < dims.n; i += parts) {
    var v = values[dims.offset + i];
    if (SQUARE) {
      if (dims.clip > 0.0) { v = clamp(v, -dims.clip, dims.clip); }
      v = v * v;
    }
    acc += v;
  }
  partials[dims.out + gid.x] = acc;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn reduce_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let parts = groups.x * WORKGROUP_SIZE;
  let base = dims.offset / 4u;
  let quads = dims.n / 4u;
  var acc = vec4<f32>(0.0);
  for (var i = gid.x; i < quads; i += parts) { acc += term4(values4[base + i]); }
  var total = (acc.x + acc.y) + (acc.z + acc.w);
  if (gid.x == 0u) {
    let tail = term4(values4[base + quads]);  // past the end: the binding clamps, and none is added
    for (var c = 0u; c < dims.n % 4u; c++) { total += tail[c]; }
  }
  partials[dims.out + gid.x] = total;
}
