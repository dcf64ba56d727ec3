// The GPU agreement suite with half-precision weights, in Node on Mesa's lavapipe: the software Vulkan
// driver here that has shader-f16 (SwiftShader, the default, does not). scripts/setup.sh installs it.
import { describe, expect, it } from 'vitest';
import { getDefaultDevice } from '../src/gpu/device.js';
import { loadManifest } from './support/fixtures.js';
import { loadNodeBytes } from './support/node-fixtures.js';
import { gpuAgreementCases } from './suites/gpu-agreement.js';

process.env.WEBGPU_RNN_ADAPTER ??= 'llvmpipe'; // read when the first device is requested, below
const manifest = await loadManifest(loadNodeBytes);
const device = await getDefaultDevice();
const cases = gpuAgreementCases(loadNodeBytes, manifest, device, 'f16');

describe('WebGPU in Node with f16 weights agrees with the CPU reference on the same weights', () => {
  it('runs on an adapter with shader-f16', () => {
    expect(device.features.has('shader-f16')).toBe(true);
  });
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const note = await c.run();
    expect(note).not.toBe('');
  });
});
