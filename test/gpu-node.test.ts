// The GPU agreement suite in Node, on Dawn (SwiftShader where the machine has no GPU).
import { describe, expect, it } from 'vitest';
import { getDefaultDevice, hostGpu } from '../src/gpu/device.js';
import { loadManifest } from './support/fixtures.js';
import { loadNodeBytes } from './support/node-fixtures.js';
import { trainingManifests } from './support/training-fixtures.js';
import { CHECKED_NOTE, gpuAgreementCases } from './suites/gpu-agreement.js';

const manifest = await loadManifest(loadNodeBytes);
const device = await getDefaultDevice();
const cases = gpuAgreementCases(loadNodeBytes, manifest, device, 'f32', await trainingManifests(loadNodeBytes));

describe('WebGPU in Node (Dawn) agrees with PyTorch and the CPU reference', () => {
  it('runs on a real WebGPU adapter, with subgroups wherever the adapter has them', async () => {
    expect(device.limits.maxComputeWorkgroupsPerDimension).toBeGreaterThan(0);
    // The engine asks for subgroups where the adapter offers them (then the suite runs the subgroup
    // kernels; the plain ones run in the "other layouts" case either way).
    const adapter = await (await hostGpu())!.requestAdapter({ powerPreference: 'high-performance' });
    expect(device.features.has('subgroups')).toBe(adapter!.features.has('subgroups'));
    console.info(`adapter ${device.adapterInfo.description || device.adapterInfo.vendor}: subgroups ${device.features.has('subgroups')}`);
  });
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(await c.run()).toMatch(CHECKED_NOTE);
  });
});
