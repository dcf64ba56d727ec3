/**
 * The benchmark's ONNX Runtime Web peer (src/bench/peers/ort.ts): the WebGPU execution provider on
 * Dawn runs the file exportRnnOnnx writes for each bench workload (every layer count, direction and
 * bias choice the bench can produce, and saturating inputs) to the float64 reference's numbers, on
 * the bench device or on its own. (The export itself is tested in test/onnx/export.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ortWebGpu } from '../src/bench/peers/ort.js';
import type { PreparedSystem } from '../src/bench/system.js';
import type { RnnConfigInput } from '../src/config.js';
import { getDefaultDevice, hostGpu } from '../src/gpu/device.js';
import { createRnn } from '../src/rnn.js';
import type { Tensor } from '../src/tensor.js';
import { GPU_RTOL, expectClose } from './support/compare.js';
import { randomCase } from './support/random.js';

/** Small odd sizes: every layer count, direction and bias choice the bench can produce, and saturating inputs. */
const CASES: { name: string; config: RnnConfigInput; T: number; B: number; scale?: number }[] = [];
for (const mode of ['LSTM', 'GRU'] as const) {
  for (const num_layers of [1, 2]) {
    for (const bidirectional of [false, true]) {
      CASES.push({
        name: `${mode} L${num_layers} ${bidirectional ? 'bi' : 'uni'}`,
        config: { mode, input_size: 3, hidden_size: 5, num_layers, bidirectional },
        T: 4,
        B: 2,
      });
    }
  }
  CASES.push({ name: `${mode} no bias, T=7 B=3`, config: { mode, input_size: 4, hidden_size: 6, bias: false }, T: 7, B: 3 });
  CASES.push({ name: `${mode} saturating input (×30)`, config: { mode, input_size: 3, hidden_size: 5 }, T: 4, B: 2, scale: 30 });
}

async function reference(c: ReturnType<typeof randomCase>): Promise<Tensor> {
  const model = await createRnn({ config: c.config, weights: c.weights, backend: 'cpu' });
  return (await model.forward(c.input)).output;
}

describe('the ort-webgpu bench peer (WebGPU EP on Dawn) runs the model like PyTorch', () => {
  let device: GPUDevice;
  beforeAll(async () => {
    device = await getDefaultDevice();
  });

  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, spec, i) => {
    const c = randomCase(spec.config, 100 + i, { T: spec.T, B: spec.B, scale: spec.scale });
    const shape = { name: spec.name, about: 'test', config: { ...spec.config, mode: spec.config.mode as 'LSTM' | 'GRU' }, T: spec.T, B: spec.B };
    const prepared = await ortWebGpu.prepare({ shape, config: c.config, weights: c.weights, input: c.input }, device);
    try {
      expect(prepared.sameEquations).toBe(true);
      // Node has no navigator.gpu; the peer lends Dawn's only while ORT sets up, and takes it back.
      expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
      const expected = await reference(c);
      for (let run = 0; run < 2; run++) {
        expectClose(`ORT WebGPU output, run ${run}`, { shape: expected.shape, data: await prepared.run() }, expected, GPU_RTOL);
      }
    } finally {
      await prepared.dispose();
    }
  });

  describe('on a device that allows enough storage buffers', () => {
    let roomy: GPUDevice | undefined;
    let prepared: PreparedSystem | undefined;
    afterAll(async () => {
      await prepared?.dispose();
      roomy?.destroy();
    });

    it('runs on the given device', async () => {
      const adapter = await (await hostGpu())!.requestAdapter({ powerPreference: 'high-performance' });
      roomy = await adapter!.requestDevice({ label: 'bench-ort-peer.test roomy', requiredLimits: { maxStorageBuffersPerShaderStage: 10 } });
      roomy.pushErrorScope('validation');
      const c = randomCase({ mode: 'LSTM', input_size: 3, hidden_size: 5 }, 7, { T: 3, B: 2 });
      const shape = { name: 'roomy', about: 'test', config: { mode: 'LSTM' as const, input_size: 3, hidden_size: 5 }, T: 3, B: 2 };
      prepared = await ortWebGpu.prepare({ shape, config: c.config, weights: c.weights, input: c.input }, roomy);
      expect(prepared.note).toMatch(/on the bench device/);
      const expected = await reference(c);
      expectClose('ORT WebGPU output', { shape: expected.shape, data: await prepared.run() }, expected, GPU_RTOL);
      expect(await roomy.popErrorScope()).toBeNull();
    });
  });
});
