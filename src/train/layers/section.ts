/**
 * The flat-buffer section of a layer whose parameters the kernels read as PyTorch stores them: each
 * tensor in state_dict order, each starting on a 4-float boundary (vec4 loads).
 */
import type { FlatSection, ParamSpec } from './layer.js';

const align4 = (n: number) => Math.ceil(n / 4) * 4;
const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function plainSection(start: number, specs: readonly ParamSpec[]): FlatSection & { offsets: Record<string, number> } {
  const offsets: Record<string, number> = {};
  let at = start;
  for (const s of specs) {
    offsets[s.name] = at;
    at = align4(at + count(s.shape));
  }
  return {
    start,
    size: at - start,
    offsets,
    pack(params, flat) {
      for (const s of specs) flat.set(params[s.name], offsets[s.name]);
    },
    unpack(flat) {
      return Object.fromEntries(specs.map((s) => [s.name, flat.slice(offsets[s.name], offsets[s.name] + count(s.shape))]));
    },
  };
}
