/**
 * Host-side mirrors of the WGSL uniform structs. Each struct is a flat list of u32 fields; the field
 * lists below must name the WGSL struct members in order (test/uniforms.test.ts parses the shaders
 * and checks that they agree).
 */
import { RnnError } from '../errors.js';

/** `struct GemmDims` in shaders/gemm.wgsl (alpha and beta are f32, see F32_FIELDS). */
export const GEMM_DIMS_FIELDS = [
  'M',
  'N',
  'K',
  'a_offset',
  'a_batch_stride',
  'b_offset',
  'b_batch_stride',
  'bias_offset',
  'bias_batch_stride',
  'c_offset',
  'c_batch_stride',
  'alpha',
  'beta',
  'ldc',
  '_pad1',
  '_pad2',
] as const;

/** Fields, in any struct, that are f32 in WGSL (every other field is u32). */
export const F32_FIELDS: ReadonlySet<string> = new Set([
  'lambda',
  'alpha',
  'beta',
  'p',
  'scale',
  'clip',
  'temperature',
  'lr',
  'momentum',
  'dampening',
  'weight_decay',
  'beta1',
  'beta2',
  'eps',
  'bias_correction1',
  'bias_correction2_sqrt',
  'clip_value',
  'max_norm',
]);

/** `struct StepDims` in shaders/recurrent-step.wgsl */
export const STEP_DIMS_FIELDS = ['T', 'B', 'H', 'H_out', 'D', 'w_hh_offset', 'b_hh_offset', 'w_hr_offset'] as const;

/** `struct PersistentDims` in shaders/recurrent-persistent.wgsl */
export const PERSISTENT_DIMS_FIELDS = [
  'T',
  'B',
  'H',
  'H_out',
  'D',
  'I',
  'w_ih_offset',
  'b_ih_offset',
  'w_hh_offset',
  'b_hh_offset',
  'w_hr_offset',
  '_pad1',
] as const;

/** `struct StepIndex` in shaders/recurrent-step.wgsl */
export const STEP_INDEX_FIELDS = ['s'] as const;

/** `struct SaveDims` in shaders/recurrent-common.wgsl */
export const SAVE_DIMS_FIELDS = ['pre', 'c', 'h_raw', 'mask'] as const;

type Values<F extends readonly string[]> = { [K in F[number] as K extends `_${string}` ? never : K]: number };

/** Packs named values in the struct's field order (u32, or f32 for F32_FIELDS); padding fields are zero. */
export function packU32Struct<F extends readonly string[]>(fields: F, values: Values<F>): Uint32Array {
  const out = new Uint32Array(fields.length);
  const floats = new Float32Array(out.buffer);
  fields.forEach((name, i) => {
    if (name.startsWith('_')) return;
    const v = (values as Record<string, number>)[name];
    if (F32_FIELDS.has(name)) {
      floats[i] = v;
      return;
    }
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RnnError('LIMIT_EXCEEDED', `uniform field ${name}: ${v} is not a u32`);
    out[i] = v;
  });
  return out;
}

/** `struct BackwardDims` in shaders/recurrent-backward.wgsl */
export const BACKWARD_DIMS_FIELDS = [
  'T',
  'B',
  'H',
  'H_out',
  'D',
  'w_hh_offset',
  'w_hr_offset',
  'pre',
  'c',
  'h_raw',
  'h_prev',
  'c_prev',
  'dg_x',
  'dg_h',
  'dh_hist',
  'dout_stride',
  'mask',
  'w_t',
  '_pad1',
  '_pad2',
] as const;

/** `struct ShiftDims` in shaders/shift.wgsl */
export const SHIFT_DIMS_FIELDS = ['T', 'B', 'H', 'H_out', 'D', 'h_prev', 'c_prev', 'c', 'mask', 'h_prev_masked', '_pad0', '_pad1'] as const;

/** `struct DropoutDims` in shaders/dropout.wgsl (p is f32) */
export const DROPOUT_DIMS_FIELDS = ['n', 'seed', 'stream', 'p'] as const;

/** `struct EmbeddingDims` in shaders/embedding.wgsl */
export const EMBEDDING_DIMS_FIELDS = ['rows', 'E', 'table', 'first', 'dest', 'dx', '_pad0', '_pad1'] as const;

/** `struct SampleDims` in shaders/sample.wgsl (temperature is f32) */
export const SAMPLE_DIMS_FIELDS = ['O', 'top_k', 'seed', 'temperature'] as const;

/** `struct LossDims` in shaders/loss.wgsl (scale is f32) */
export const LOSS_DIMS_FIELDS = ['rows', 'O', 'scale', '_pad'] as const;

/** `struct ReduceDims` in shaders/reduce.wgsl (clip is f32) */
export const REDUCE_DIMS_FIELDS = ['n', 'offset', 'out', 'clip'] as const;

/** `struct LastStateDims` in shaders/last-state.wgsl */
export const LAST_STATE_DIMS_FIELDS = ['B', 'H_out', 'D', 'state_offset', 'features_offset', '_pad0', '_pad1', '_pad2'] as const;

/** `struct AttentionDims` in shaders/attention.wgsl */
export const ATTENTION_DIMS_FIELDS = ['T', 'B', 'S', 'H_k', 'H_q', 'W', 'J', 'v_offset', 'dv_offset', '_pad0', '_pad1', '_pad2'] as const;

/** `struct AttentiveDims` in shaders/attentive-decoder.wgsl (the `_at` fields are float offsets) */
export const ATTENTIVE_DIMS_FIELDS = [
  'T',
  'B',
  'S',
  'E',
  'H_k',
  'H_q',
  'H',
  'L',
  'A',
  'wq_at',
  'v_at',
  'stream_base',
  'x0_at',
  'x1_at',
  'pre_at',
  'c_at',
  'h_prev_at',
  'c_prev_at',
  'alpha_at',
  'query_at',
  'score_q_at',
  'output_at',
  'state_at',
  'layer_state',
  'dgx_at',
  'dgh_at',
  'dh_at',
  'dc_at',
  'direct_at',
  'dscore_at',
  'dsq_at',
  'djoined_at',
  '_pad0',
  '_pad1',
  '_pad2',
  '_pad3',
] as const;

/** `struct AttentiveRun` in shaders/attentive-decoder.wgsl (p is f32) */
export const ATTENTIVE_RUN_FIELDS = ['seed', 'p', '_pad0', '_pad1'] as const;

/** `struct L1Dims` in shaders/l1.wgsl (lambda is f32) */
export const L1_DIMS_FIELDS = ['n', 'lambda', '_pad0', '_pad1'] as const;

/** `struct BeamDims` in shaders/beam.wgsl */
export const BEAM_DIMS_FIELDS = ['B', 'K', 'V', 'eos', 'max_length', 'finished_cap', '_pad0', '_pad1'] as const;

/** `struct TanhDims` in shaders/tanh.wgsl */
export const TANH_DIMS_FIELDS = ['n', 'y', 'values', '_pad0'] as const;

/** `struct OptimizerDims` in shaders/optimizer.wgsl (from lr on, f32) */
export const OPTIMIZER_DIMS_FIELDS = [
  'quads',
  'first_step',
  'norm_index',
  'clip_by_norm',
  'lr',
  'momentum',
  'dampening',
  'weight_decay',
  'beta1',
  'beta2',
  'eps',
  'alpha',
  'bias_correction1',
  'bias_correction2_sqrt',
  'clip_value',
  'max_norm',
  'step',
  '_pad0',
  '_pad1',
  '_pad2',
] as const;
