// The GPU agreement suite in Node, on Dawn (SwiftShader where the machine has no GPU).
import { describe, expect, it } from 'vitest';
import { getDefaultDevice } from '../src/gpu/device.js';
import { loadManifest } from './support/fixtures.js';
import { loadNodeBytes } from './support/node-fixtures.js';
import { gpuAgreementCases } from './suites/gpu-agreement.js';

const manifest = await loadManifest(loadNodeBytes);
const device = await getDefaultDevice();
const cases = gpuAgreementCases(loadNodeBytes, manifest, device);

describe('WebGPU in Node (Dawn) agrees with PyTorch and the CPU reference', () => {
  it('runs on a real WebGPU adapter, with subgroups (so the suite runs the subgroup kernels)', () => {
    expect(device.limits.maxComputeWorkgroupsPerDimension).toBeGreaterThan(0);
    expect(device.features.has('subgroups')).toBe(true);
  });
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const note = await c.run();
    expect(note).not.toBe('');
  });
});
