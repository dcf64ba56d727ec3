/**
 * Host-side mirrors of the WGSL uniform structs. Each struct is a flat list of u32 fields; the field
 * lists below must name the WGSL struct members in order (test/uniforms.test.ts parses the shaders
 * and checks that they agree).
 */
import { RnnError } from '../errors.js';


/** `struct MatmulDims` in shaders/matmul.wgsl */
export const MATMUL_DIMS_FIELDS = [
  'M', 'N', 'K', 'a_batch_stride', 'w_offset', 'w_batch_stride', 'bias_offset', 'bias_batch_stride', 'c_batch_stride',
  '_pad0', '_pad1', '_pad2',
] as const;

/** `struct StepDims` in shaders/recurrent-step.wgsl */
export const STEP_DIMS_FIELDS = ['T', 'B', 'H', 'H_out', 'D', 'w_hh_offset', 'b_hh_offset', '_pad'] as const;

/** `struct PersistentDims` in shaders/recurrent-persistent.wgsl */
export const PERSISTENT_DIMS_FIELDS = [
  'T', 'B', 'H', 'H_out', 'D', 'I', 'w_ih_offset', 'b_ih_offset', 'w_hh_offset', 'b_hh_offset', '_pad0', '_pad1',
] as const;

/** `struct StepIndex` in shaders/recurrent-step.wgsl */
export const STEP_INDEX_FIELDS = ['s'] as const;

type Values<F extends readonly string[]> = { [K in F[number] as K extends `_${string}` ? never : K]: number };

/** Packs named u32 values in the struct's field order; padding fields are zero. */
export function packU32Struct<F extends readonly string[]>(fields: F, values: Values<F>): Uint32Array {
  const out = new Uint32Array(fields.length);
  fields.forEach((name, i) => {
    if (name.startsWith('_')) return;
    const v = (values as Record<string, number>)[name];
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RnnError('LIMIT_EXCEEDED', `uniform field ${name}: ${v} is not a u32`);
    out[i] = v;
  });
  return out;
}
