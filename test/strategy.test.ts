// The strategy chooser and the dispatch counts each strategy promises, checked against the dispatches
// actually recorded (WebGPU instrumented, as the benchmark counts every system).
import { describe, expect, it } from 'vitest';
import type { WebGpuRnn } from '../src/backends/webgpu.js';
import { countGpuWork } from '../src/bench/instrument.js';
import { resolveConfig } from '../src/config.js';
import { type Strategy, chooseStrategy, persistentUnfit } from '../src/gpu/strategy.js';
import { createRnn } from '../src/rnn.js';
import { randomCase } from './support/random.js';

const limits = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupStorageSize: 16384 } as GPUSupportedLimits;

describe('chooseStrategy', () => {
  const lstm = (hidden_size: number, extra = {}) => resolveConfig({ mode: 'LSTM', input_size: 8, hidden_size, ...extra });

  it('auto: persistent while every invocation owns at most one unit, else per-step', () => {
    expect(chooseStrategy('auto', lstm(128), 1, limits)).toBe('persistent'); // voice-lstm: 128 units
    expect(chooseStrategy('auto', lstm(64, { bidirectional: true }), 2, limits)).toBe('persistent'); // 256 units
    expect(chooseStrategy('auto', lstm(64, { bidirectional: true }), 3, limits)).toBe('per-step'); // 384 units
    expect(chooseStrategy('auto', lstm(128, { num_layers: 2 }), 8, limits)).toBe('per-step'); // char-rnn: 1024
  });

  it('forcing works up to the limit and names why past it', () => {
    expect(chooseStrategy('persistent', lstm(256), 4, limits)).toBe('persistent'); // 1024 units, 4 per invocation
    expect(chooseStrategy('fused', lstm(256), 4, limits)).toBe('fused');
    expect(() => chooseStrategy('fused', lstm(257), 4, limits)).toThrow(/strategy "fused" cannot run this shape: 1028 units/);
    expect(chooseStrategy('per-step', lstm(8), 1, limits)).toBe('per-step');
  });

  it('checks workgroup memory against the device', () => {
    expect(persistentUnfit(lstm(8), 1, { ...limits, maxComputeWorkgroupStorageSize: 8192 } as GPUSupportedLimits)).toMatch(/8192 bytes of workgroup memory/);
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
    const rnn = (await createRnn({ config: c.config, weights: c.weights, strategy: strategy as Strategy })) as WebGpuRnn;
    await rnn.forward(c.input);
    const { counts } = await countGpuWork(() => rnn.forward(c.input));
    expect(counts.dispatches).toBe(expected);
    expect(rnn.gpu.dispatchCount(7, strategy as Strategy)).toBe(expected);
    expect(counts.bufferBytes).toBe(0); // steady state: nothing allocated
    rnn.destroy();
  });
});
