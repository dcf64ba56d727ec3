// Weight storage header, f32 (the default). src/gpu/wgsl.ts opens every kernel module with one of the
// weights-*.wgsl headers: each names how a layer's weights are stored and how a kernel widens them
// to f32, so the kernels themselves are written once. All arithmetic is f32 whatever the storage.
alias weight4 = vec4<f32>;  // one packed element: the four gate lanes of a unit
alias weight2 = vec2<f32>;  // two consecutive scalars (W_hr)

fn widen4(w: weight4) -> vec4<f32> {
  return w;
}

fn widen2(w: weight2) -> vec2<f32> {
  return w;
}
