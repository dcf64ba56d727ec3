// Weight storage header, binary16 read as packed words: for adapters without shader-f16 (see
// weights-f32.wgsl). The bytes are those of weights-f16.wgsl — two halves per u32, the first in the
// low half — and unpack2x16float, core WGSL, widens them.
alias weight4 = vec2<u32>;
alias weight2 = u32;

fn widen4(w: weight4) -> vec4<f32> {
  return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
}

fn widen2(w: weight2) -> vec2<f32> {
  return unpack2x16float(w);
}
