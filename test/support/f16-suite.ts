/**
 * The GPU agreement suite with half-precision weights on the engine's default device, as a vitest
 * file body: `format` is the weight format the device must use (native f16 where it has shader-f16,
 * packed words elsewhere), and a tiny benchmark runs webgpu-rnn-f16 beside webgpu-rnn. With
 * `oneStrategyPerSubject`, each model meets one of its strategies, the strategies taking turns (the
 * headless-Chromium run's rule, test/browser/selection.ts): for a second run of the same kernels whose
 * only difference is how they read the weights, every kernel and strategy still reads them that way.
 */
import { describe, expect, it } from 'vitest';
import { runBench } from '../../src/bench/run.js';
import { TINY_SHAPE } from '../../src/bench/shapes.js';
import { getDefaultDevice } from '../../src/gpu/device.js';
import { type WeightFormat, weightFormat } from '../../src/gpu/wgsl.js';
import { chromiumSelection } from '../browser/selection.js';
import { loadManifest } from './fixtures.js';
import { loadNodeBytes } from './node-fixtures.js';
import { CHECKED_NOTE, gpuAgreementCases } from '../suites/gpu-agreement.js';

export async function f16Suite(format: WeightFormat, { oneStrategyPerSubject = false } = {}): Promise<void> {
  const manifest = await loadManifest(loadNodeBytes);
  const device = await getDefaultDevice();
  const all = gpuAgreementCases(loadNodeBytes, manifest, device, 'f16');
  const cases = oneStrategyPerSubject ? chromiumSelection(all.map((c) => c.name)).map((i) => all[i]) : all;

  describe(`WebGPU in Node with f16 weights (${format}) agrees with the CPU reference on the same weights`, () => {
    it(`reads f16 weights as ${format} on this adapter`, () => {
      expect(weightFormat('f16', device)).toBe(format);
    });
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      expect(await c.run()).toMatch(CHECKED_NOTE);
    });
  });

  describe(`benchmark with f16 weights (${format}, tiny shape)`, () => {
    it('validates and times webgpu-rnn-f16 beside webgpu-rnn, noting the error vs the f32 path', async () => {
      const report = await runBench({
        shapes: [TINY_SHAPE],
        systems: ['webgpu-rnn', 'webgpu-rnn-f16'],
        runs: 2,
        warmup: 1,
        runtime: 'node (test)',
        ceilings: false,
      });
      const [full, half] = report.rows;
      for (const row of report.rows) expect(row.error, `${row.system}: ${row.error}`).toBeUndefined();
      expect(half.system).toBe('webgpu-rnn-f16');
      expect(half.median_ms).toBeGreaterThan(0);
      expect(half.max_rel_err).toBeLessThan(1e-2); // vs the reference on unrounded weights: half's rounding
      expect(half.max_rel_err).toBeGreaterThan(full.max_rel_err!);
      expect(half.note).toMatch(/f16 weights: output vs the f32 path \d\.\de-\d/);
    });
  });
}
