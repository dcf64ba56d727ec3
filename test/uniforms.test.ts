// Host packers mirror the WGSL uniform structs field for field; the dispatch helper stays in limits.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dispatchSize, tileCount } from '../src/gpu/program.js';
import {
  ATTENTION_DIMS_FIELDS,
  ATTENTIVE_DIMS_FIELDS,
  ATTENTIVE_RUN_FIELDS,
  BEAM_DIMS_FIELDS,
  BACKWARD_DIMS_FIELDS,
  DROPOUT_DIMS_FIELDS,
  EMBEDDING_DIMS_FIELDS,
  F32_FIELDS,
  L1_DIMS_FIELDS,
  GEMM_DIMS_FIELDS,
  LAST_STATE_DIMS_FIELDS,
  LOSS_DIMS_FIELDS,
  OPTIMIZER_DIMS_FIELDS,
  PERSISTENT_DIMS_FIELDS,
  REDUCE_DIMS_FIELDS,
  SAMPLE_DIMS_FIELDS,
  SAVE_DIMS_FIELDS,
  SHIFT_DIMS_FIELDS,
  TANH_DIMS_FIELDS,
  STEP_DIMS_FIELDS,
  STEP_INDEX_FIELDS,
  packU32Struct,
} from '../src/gpu/uniforms.js';

/** Field names of `struct Name { a: u32, ... }` in a WGSL file, with their types. */
function wgslStruct(file: string, name: string): Array<[string, string]> {
  const source = readFileSync(new URL(`../shaders/${file}`, import.meta.url), 'utf8');
  const body = new RegExp(`struct\\s+${name}\\s*\\{([^}]*)\\}`).exec(source)?.[1];
  if (!body) throw new Error(`struct ${name} not found in ${file}`);
  return body
    .split('\n')
    .map((line) => line.replace(/\/\/.*/, '').trim())
    .filter(Boolean)
    .map((line) => {
      const m = /^(\w+)\s*:\s*(\w+)\s*,?$/.exec(line);
      if (!m) throw new Error(`unexpected line in struct ${name}: ${line}`);
      return [m[1], m[2]] as [string, string];
    });
}

describe('uniform layouts', () => {
  it.each([
    ['gemm.wgsl', 'GemmDims', GEMM_DIMS_FIELDS],
    ['recurrent-step.wgsl', 'StepDims', STEP_DIMS_FIELDS],
    ['recurrent-step.wgsl', 'StepIndex', STEP_INDEX_FIELDS],
    ['recurrent-persistent.wgsl', 'PersistentDims', PERSISTENT_DIMS_FIELDS],
    ['projection.wgsl', 'StepDims', STEP_DIMS_FIELDS],
    ['recurrent-common.wgsl', 'SaveDims', SAVE_DIMS_FIELDS],
    ['recurrent-backward.wgsl', 'BackwardDims', BACKWARD_DIMS_FIELDS],
    ['shift.wgsl', 'ShiftDims', SHIFT_DIMS_FIELDS],
    ['dropout.wgsl', 'DropoutDims', DROPOUT_DIMS_FIELDS],
    ['embedding.wgsl', 'EmbeddingDims', EMBEDDING_DIMS_FIELDS],
    ['loss.wgsl', 'LossDims', LOSS_DIMS_FIELDS],
    ['reduce.wgsl', 'ReduceDims', REDUCE_DIMS_FIELDS],
    ['optimizer.wgsl', 'OptimizerDims', OPTIMIZER_DIMS_FIELDS],
    ['sample.wgsl', 'SampleDims', SAMPLE_DIMS_FIELDS],
    ['last-state.wgsl', 'LastStateDims', LAST_STATE_DIMS_FIELDS],
    ['attention.wgsl', 'AttentionDims', ATTENTION_DIMS_FIELDS],
    ['tanh.wgsl', 'TanhDims', TANH_DIMS_FIELDS],
    ['beam.wgsl', 'BeamDims', BEAM_DIMS_FIELDS],
    ['l1.wgsl', 'L1Dims', L1_DIMS_FIELDS],
    ['attentive-decoder.wgsl', 'AttentiveDims', ATTENTIVE_DIMS_FIELDS],
    ['attentive-decoder.wgsl', 'AttentiveRun', ATTENTIVE_RUN_FIELDS],
  ] as const)('%s %s matches its packer', (file, name, fields) => {
    const wgsl = wgslStruct(file, name);
    expect(wgsl.map(([n]) => n)).toEqual([...fields]);
    expect(wgsl.map(([n, type]) => `${n}: ${type}`)).toEqual(wgsl.map(([n]) => `${n}: ${F32_FIELDS.has(n) ? 'f32' : 'u32'}`));
  });

  it('packs values in field order with zero padding, and rejects non-u32 values', () => {
    const v = { T: 7, B: 3, H: 5, H_out: 2, D: 2, w_hh_offset: 11, b_hh_offset: 13, w_hr_offset: 17 };
    expect([...packU32Struct(STEP_DIMS_FIELDS, v)]).toEqual([7, 3, 5, 2, 2, 11, 13, 17]);
    expect(() => packU32Struct(STEP_DIMS_FIELDS, { ...v, T: -1 })).toThrow(/uniform field T: -1/);
    expect(() => packU32Struct(STEP_DIMS_FIELDS, { ...v, T: 1.5 })).toThrow(/uniform field T/);
  });
});

describe('dispatchSize', () => {
  it('ceil-divides and stays 1-D within the limit', () => {
    expect(dispatchSize(1, 64, 65535)).toEqual([1, 1]);
    expect(dispatchSize(64, 64, 65535)).toEqual([1, 1]);
    expect(dispatchSize(65, 64, 65535)).toEqual([2, 1]);
  });
  it('folds into 2-D past the limit, covering every invocation', () => {
    const [x, y] = dispatchSize(1000 * 64 + 1, 64, 100);
    expect(x).toBeLessThanOrEqual(100);
    expect(y).toBeLessThanOrEqual(100);
    expect(x * y * 64).toBeGreaterThanOrEqual(1000 * 64 + 1);
  });
  it('names the problem past the 2-D limit', () => {
    expect(() => dispatchSize(100 * 100 * 64 + 1, 64, 100)).toThrow(/exceeds the device limit of 100²/);
    expect(() => tileCount(33 * 101, 33, 100, 'input projection rows')).toThrow(/input projection rows: 3333 needs 101 workgroups/);
  });
});
