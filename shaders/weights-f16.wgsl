// Weight storage header, binary16 on adapters with shader-f16 (see weights-f32.wgsl; src/gpu/wgsl.ts adds
// `enable f16;`).

alias weight4 = vec4<f16>;
alias weight2 = vec2<f16>;

fn widen4(w: weight4) -> vec4<f32> {
  return vec4<f32>(w);
}

fn widen2(w: weight2) -> vec2<f32> {
  return vec2<f32>(w);
}
