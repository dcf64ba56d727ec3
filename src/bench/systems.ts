/** Our two systems as benchmark entries: the WebGPU engine and the float64 CPU reference. */
import type { WebGpuRnn } from '../backends/webgpu.js';
import { createRnn } from '../rnn.js';
import type { BenchSystem, PreparedSystem } from './system.js';

export const webgpuRnnSystem: BenchSystem = {
  name: 'webgpu-rnn',
  async prepare(w, device): Promise<PreparedSystem> {
    const rnn = (await createRnn({ config: w.config, weights: w.weights, device })) as WebGpuRnn;
    const strategy = rnn.gpu.strategyFor(w.shape.B, rnn.strategy);
    return {
      note: `${strategy} strategy, ${rnn.gpu.dispatchCount(w.shape.T, strategy)} dispatches by construction`,
      run: async () => (await rnn.forward(w.input)).output.data as Float32Array,
      heldGpuBytes: () => rnn.gpu.heldBytes(),
      dispose: () => rnn.destroy(),
    };
  },
};

export const cpuReferenceSystem: BenchSystem = {
  name: 'cpu-reference',
  async prepare(w): Promise<PreparedSystem> {
    const rnn = await createRnn({ config: w.config, weights: w.weights, backend: 'cpu' });
    return {
      note: 'float64, plain TypeScript, one thread',
      run: async () => Float32Array.from((await rnn.forward(w.input)).output.data),
      dispose: () => rnn.destroy(),
    };
  },
};
