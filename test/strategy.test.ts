// The strategy chooser and the dispatch counts each strategy promises, checked against the dispatches
// actually recorded (WebGPU instrumented, as the benchmark counts every system).
import { describe, expect, it } from 'vitest';
import { diagnostics } from '../src/diagnostics.js';
import { countGpuWork } from '../src/bench/instrument.js';
import { resolveConfig } from '../src/config.js';
import { persistentLayout, persistentUnfit } from '../src/gpu/ops/persistent.js';
import { chooseStepLayout } from '../src/gpu/ops/recurrent-step.js';
import { type Strategy, chooseStrategy } from '../src/gpu/strategy.js';
import { createRnn } from '../src/rnn.js';
import { chooseBackward } from '../src/train/layers/recurrent/strategy.js';
import { randomCase } from './support/random.js';

const limits = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeWorkgroupsPerDimension: 65535,
} as GPUSupportedLimits;

describe('chooseStrategy', () => {
  const lstm = (hidden_size: number, extra = {}) => resolveConfig({ mode: 'LSTM', input_size: 8, hidden_size, ...extra });

  it("auto on a GPU: persistent while all sequences fit one workgroup's width (D·B·H ≤ 256), else per-step", () => {
    expect(chooseStrategy('auto', lstm(128), 1, limits)).toBe('persistent'); // voice-lstm: 128 units
    expect(chooseStrategy('auto', lstm(64, { bidirectional: true }), 2, limits)).toBe('persistent'); // 256 units
    expect(chooseStrategy('auto', lstm(64, { bidirectional: true }), 3, limits)).toBe('per-step'); // 384 units
    expect(chooseStrategy('auto', lstm(128, { num_layers: 2 }), 8, limits)).toBe('per-step'); // char-rnn: 1024
  });

  it('auto on a software adapter: also persistent wherever it has a workgroup per core (D·B ≥ 2), unless a step is big enough for the wide step kernel', () => {
    expect(chooseStrategy('auto', lstm(128), 1, limits, true)).toBe('persistent');
    expect(chooseStrategy('auto', lstm(512), 1, limits, true)).toBe('per-step'); // one sequence, large H
    expect(chooseStrategy('auto', lstm(128, { num_layers: 2 }), 8, limits, true)).toBe('per-step'); // char-rnn: 1.05 MFLOP a step
    expect(chooseStrategy('auto', lstm(256), 32, limits, true)).toBe('per-step'); // throughput: 16.8 MFLOP
    expect(chooseStrategy('auto', lstm(64), 32, limits, true)).toBe('per-step'); // 1.05 MFLOP
    expect(chooseStrategy('auto', lstm(62), 32, limits, true)).toBe('persistent'); // 0.98 MFLOP
    expect(chooseStrategy('auto', lstm(96), 8, limits, true)).toBe('persistent'); // 0.59 MFLOP
    expect(chooseStrategy('auto', lstm(512), 7, limits, true)).toBe('persistent'); // B < 8: the narrow step
    expect(chooseStrategy('auto', lstm(64, { bidirectional: true }), 64, limits, true)).toBe('per-step'); // 2 directions: 4.19 MFLOP
    expect(chooseStrategy('auto', lstm(1025), 32, limits, true)).toBe('per-step'); // does not fit
  });

  it('forcing works up to the limit and names why past it', () => {
    expect(chooseStrategy('persistent', lstm(1024), 64, limits)).toBe('persistent'); // 4 units per invocation, 64 workgroups
    expect(chooseStrategy('fused', lstm(1024), 4, limits)).toBe('fused');
    expect(() => chooseStrategy('fused', lstm(1025), 4, limits)).toThrow(
      /strategy "fused" cannot run this shape: hidden_size 1025 would give one invocation 5 units/,
    );
    expect(() => chooseStrategy('persistent', lstm(2049), 1, limits)).toThrow(/one batch row's state needs 4098 f32 of workgroup memory \(2·H_out\)/);
    expect(() => chooseStrategy('persistent', lstm(8), 70000, limits)).toThrow(/70000 sequences \(D·B\) exceed 65535 workgroups/);
    expect(chooseStrategy('per-step', lstm(8), 1, limits)).toBe('per-step');
  });

  it('checks workgroup memory against the device', () => {
    expect(persistentUnfit(lstm(8), 1, { ...limits, maxComputeWorkgroupStorageSize: 8192 } as GPUSupportedLimits)).toMatch(/8192 bytes of workgroup memory/);
  });
});

describe('chooseBackward', () => {
  it('takes persistent where it fits, then fused on a GPU and per-step (its GEMM) on a software adapter', () => {
    const small = resolveConfig({ mode: 'LSTM', input_size: 8, hidden_size: 64 });
    const big = resolveConfig({ mode: 'LSTM', input_size: 8, hidden_size: 512 });
    const projected = resolveConfig({ mode: 'LSTM', input_size: 8, hidden_size: 64, proj_size: 16 });
    expect([chooseBackward(small, 'auto'), chooseBackward(small, 'auto', undefined, undefined, true)]).toEqual(['persistent', 'persistent']);
    expect([chooseBackward(big, 'auto'), chooseBackward(big, 'auto', undefined, undefined, true)]).toEqual(['fused', 'per-step']);
    expect([chooseBackward(projected, 'auto'), chooseBackward(projected, 'auto', undefined, undefined, true)]).toEqual(['per-step', 'per-step']);
    expect(chooseBackward(big, 'fused', undefined, undefined, true)).toBe('fused');
  });
  it('on a software adapter, per-step from 16 rows and 1 MFLOP of recurrent step (the wide GEMM), persistent short of either', () => {
    const lstm64 = resolveConfig({ mode: 'LSTM', input_size: 64, hidden_size: 64 });
    const auto = (config: typeof lstm64, B: number, software = true) => chooseBackward(config, 'auto', B, limits, software);
    // The date model's layers: 2·B·64·256 FLOP a step — 1.05 MFLOP at B 32, half that at 16.
    expect([16, 32, 64, 128].map((B) => auto(lstm64, B))).toEqual(['persistent', 'per-step', 'per-step', 'per-step']);
    expect(auto(lstm64, 128, false)).toBe('persistent'); // a GPU: the loops
    // The char-LM's LSTM 128: 1.05 MFLOP already at B 8, but short of the wide tile's 16 rows.
    const lstm128 = resolveConfig({ mode: 'LSTM', input_size: 32, hidden_size: 128 });
    expect([8, 16].map((B) => auto(lstm128, B))).toEqual(['persistent', 'per-step']);
    // Both directions count toward the FLOPs (GRU 64 at B 16: 0.52 MFLOP one way, 1.05 both) …
    const gru = (bidirectional: boolean) => resolveConfig({ mode: 'GRU', input_size: 8, hidden_size: 64, bidirectional });
    expect([auto(gru(false), 16), auto(gru(true), 16)]).toEqual(['persistent', 'per-step']);
    // … but not toward the rows: LSTM 128 both ways at B 8 (2.1 MFLOP, 16 sequences) stays persistent.
    expect(auto(resolveConfig({ mode: 'LSTM', input_size: 8, hidden_size: 128, bidirectional: true }), 8)).toBe('persistent');
    // A forced strategy stands.
    expect(chooseBackward(lstm64, 'persistent', 128, limits, true)).toBe('persistent');
  });
});

describe('chooseStepLayout (the per-step forward kernel)', () => {
  it('software: the wide entry from 8 rows (8, 16 or 32 per block, 2 or 4 units per invocation), narrower workgroups until there are 8; below 8 rows, batch blocks; GPU: up to 4, and only while enough invocations remain', () => {
    // 32-row blocks (gemmWideRows(64)), 4 units: 2 blocks × ⌈128 invocations / 32⌉ = 8 workgroups.
    expect(chooseStepLayout(512, 512, 1, 64, true)).toEqual({ workgroupSize: 32, blockB: 4, vec4H: true, wideGroups: 4, wideUnits: 4 });
    // 8-row blocks, 2 units (at 4, 2 directions × 2 subgroups would leave the cores short): 2 × 2 blocks × ⌈9 pairs / 8⌉ = 8 workgroups.
    expect(chooseStepLayout(17, 17, 2, 11, true)).toEqual({ workgroupSize: 8, blockB: 4, vec4H: false, wideGroups: 1, wideUnits: 2 });
    expect(chooseStepLayout(256, 256, 1, 40, true).wideGroups).toBe(2);
    // One block of 32 rows, 4 units: 64 invocations, 8 wide gives 8 workgroups.
    expect(chooseStepLayout(256, 256, 1, 32, true)).toEqual({ workgroupSize: 8, blockB: 4, vec4H: true, wideGroups: 4, wideUnits: 4 });
    // Four units one k at a time too (H_out not four-aligned).
    expect(chooseStepLayout(255, 255, 1, 32, true).wideUnits).toBe(4);
    // 5 subgroups of 4-unit invocations against 9 of 2-unit ones: too few for the cores.
    expect(chooseStepLayout(68, 68, 1, 32, true).wideUnits).toBe(2);
    // A tiny step stops at one subgroup of 4.
    expect(chooseStepLayout(3, 3, 1, 8, true).workgroupSize).toBe(4);
    expect(chooseStepLayout(17, 17, 2, 7, true)).toEqual({ workgroupSize: 32, blockB: 4, vec4H: false, wideGroups: 0, wideUnits: 2 });
    expect(chooseStepLayout(17, 17, 2, 3, true).blockB).toBe(2);
    expect(chooseStepLayout(1024, 1024, 1, 64, false)).toEqual({ workgroupSize: 64, blockB: 4, vec4H: true, wideGroups: 0, wideUnits: 2 });
    expect(chooseStepLayout(512, 512, 1, 64, false).blockB).toBe(2);
    expect(chooseStepLayout(256, 256, 1, 64, false).blockB).toBe(1);
  });
});

describe('persistentLayout', () => {
  const gru = (hidden_size: number, extra = {}) => resolveConfig({ mode: 'GRU', input_size: 8, hidden_size, ...extra });
  const lstm = (hidden_size: number, extra = {}) => resolveConfig({ mode: 'LSTM', input_size: 8, hidden_size, ...extra });

  it('GPU: one batch row per workgroup, one unit per invocation up to 256', () => {
    expect(persistentLayout(gru(64, { bidirectional: true }), 4, limits, false)).toEqual({
      workgroupSize: 64,
      blockB: 1,
      workgroups: 8,
      cacheK: 0,
      sharedFloats: 128,
      kRemainder: false,
    });
    expect(persistentLayout(gru(1000), 3, limits, false)).toEqual({
      workgroupSize: 256,
      blockB: 1,
      workgroups: 3,
      cacheK: 0,
      sharedFloats: 2048,
      kRemainder: false,
    });
    expect(persistentLayout(gru(64), 1, limits, false).cacheK).toBe(0); // W_hh stays in the buffer on GPUs
  });

  it('software, one row per workgroup: one unit per invocation (whole subgroups of 4), W_hh cached up to H_out 128', () => {
    expect(persistentLayout(gru(128), 1, limits, true)).toEqual({
      workgroupSize: 128,
      blockB: 1,
      workgroups: 1,
      cacheK: 128,
      sharedFloats: 256,
      kRemainder: false,
    });
    expect(persistentLayout(gru(128), 2, limits, true)).toEqual({
      workgroupSize: 128,
      blockB: 1,
      workgroups: 2,
      cacheK: 128,
      sharedFloats: 256,
      kRemainder: false,
    });
    expect(persistentLayout(gru(17, { bidirectional: true }), 1, limits, true)).toEqual({
      workgroupSize: 20,
      blockB: 1,
      workgroups: 2,
      cacheK: 17,
      sharedFloats: 64,
      kRemainder: true,
    });
    expect(persistentLayout(lstm(200, { proj_size: 7 }), 1, limits, true)).toEqual({
      workgroupSize: 200,
      blockB: 1,
      workgroups: 1,
      cacheK: 7,
      sharedFloats: 256,
      kRemainder: true,
    });
    // past the cache (H_out 129) or past one unit per invocation (H 257): narrow workgroups, W_hh from the buffer
    expect(persistentLayout(gru(129), 1, limits, true)).toEqual({ workgroupSize: 4, blockB: 1, workgroups: 1, cacheK: 0, sharedFloats: 512, kRemainder: true });
    expect(persistentLayout(lstm(257, { proj_size: 3 }), 1, limits, true)).toEqual({
      workgroupSize: 4,
      blockB: 1,
      workgroups: 1,
      cacheK: 0,
      sharedFloats: 512,
      kRemainder: true,
    });
    expect(persistentLayout(gru(128), 1, { ...limits, maxComputeInvocationsPerWorkgroup: 126 } as GPUSupportedLimits, true).cacheK).toBe(0);
  });

  it('software: narrow workgroups, batch blocks as wide as still give two workgroups and fit', () => {
    expect(persistentLayout(gru(128), 8, limits, true)).toEqual({
      workgroupSize: 4,
      blockB: 4,
      workgroups: 2,
      cacheK: 0,
      sharedFloats: 1024,
      kRemainder: false,
    });
    expect(persistentLayout(gru(128), 16, limits, true)).toEqual({
      workgroupSize: 4,
      blockB: 8,
      workgroups: 2,
      cacheK: 0,
      sharedFloats: 2048,
      kRemainder: false,
    });
    expect(persistentLayout(gru(128), 17, limits, true)).toEqual({
      workgroupSize: 4,
      blockB: 8,
      workgroups: 3,
      cacheK: 0,
      sharedFloats: 2048,
      kRemainder: false,
    });
    expect(persistentLayout(gru(256), 32, limits, true)).toEqual({
      workgroupSize: 4,
      blockB: 8,
      workgroups: 4,
      cacheK: 0,
      sharedFloats: 4096,
      kRemainder: false,
    }); // 8 rows: 4096 f32, just fits
    expect(persistentLayout(gru(512), 32, limits, true)).toEqual({
      workgroupSize: 4,
      blockB: 4,
      workgroups: 8,
      cacheK: 0,
      sharedFloats: 4096,
      kRemainder: false,
    });
    expect(persistentLayout(gru(128), 4, limits, true)).toEqual({
      workgroupSize: 4,
      blockB: 2,
      workgroups: 2,
      cacheK: 0,
      sharedFloats: 512,
      kRemainder: false,
    });
    expect(persistentLayout(gru(64, { bidirectional: true }), 4, limits, true)).toEqual({
      workgroupSize: 4,
      blockB: 4,
      workgroups: 2,
      cacheK: 0,
      sharedFloats: 512,
      kRemainder: false,
    });
    expect(persistentLayout(gru(128), 3, limits, true)).toEqual({
      workgroupSize: 4,
      blockB: 2,
      workgroups: 2,
      cacheK: 0,
      sharedFloats: 512,
      kRemainder: false,
    });
    expect(persistentLayout(gru(1024), 8, limits, true)).toEqual({
      workgroupSize: 4,
      blockB: 2,
      workgroups: 4,
      cacheK: 0,
      sharedFloats: 4096,
      kRemainder: false,
    }); // 4 rows: 8192 f32, too many
  });
});

describe('dispatches per sequence', () => {
  it.each([
    ['per-step', { mode: 'LSTM', input_size: 3, hidden_size: 5, num_layers: 2 }, 2 * (1 + 7)],
    ['per-step', { mode: 'LSTM', input_size: 3, hidden_size: 5, proj_size: 2 }, 1 + 2 * 7],
    ['persistent', { mode: 'GRU', input_size: 3, hidden_size: 5, num_layers: 3, bidirectional: true }, 3 * 2],
    ['fused', { mode: 'GRU', input_size: 3, hidden_size: 5, num_layers: 3, bidirectional: true }, 3],
  ] as const)('%s %j records exactly %i', async (strategy, config, expected) => {
    const c = randomCase(config, 7, { T: 7, B: 2 });
    const rnn = await createRnn({ config: c.config, weights: c.weights, strategy: strategy as Strategy });
    await rnn.forward(c.input);
    const { counts } = await countGpuWork(() => rnn.forward(c.input));
    expect(counts.dispatches).toBe(expected);
    expect(diagnostics(rnn).gpu!.plan(7, c.input.shape[1])).toEqual({ strategy, dispatches: expected });
    expect(counts.bufferBytes).toBe(0); // steady state: nothing allocated
    rnn.destroy();
  });
});
