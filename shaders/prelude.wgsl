// Shared prelude, prepended to every kernel family (the only text joining we do).
// Activations written to stay finite and accurate in f32 for any input, including saturating ones.

// Logistic sigmoid without overflow: exp() only ever sees a non-positive argument.
fn sigmoid(v: f32) -> f32 {
  let e = exp(-abs(v));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), v >= 0.0);
}

// tanh(±10) is ±1 to within f32 rounding; clamping keeps backends whose tanh is exp-based from
// producing inf/inf = NaN on large inputs, while the builtin keeps full accuracy near zero.
fn tanh_safe(v: f32) -> f32 {
  return tanh(clamp(v, -10.0, 10.0));
}

// Linear invocation index of a dispatch laid out as a 2-D grid of 1-D workgroups
// (the host splits large counts over y to stay within maxComputeWorkgroupsPerDimension).
fn linear_index(gid: vec3<u32>, groups: vec3<u32>, workgroup_size: u32) -> u32 {
  return gid.x + gid.y * groups.x * workgroup_size;
}
