/** Our two systems as benchmark entries: the WebGPU engine and the float64 CPU reference. */
import type { WebGpuRnn } from '../backends/webgpu.js';
import type { StrategyChoice } from '../gpu/strategy.js';
import { createRnn } from '../rnn.js';
import type { BenchSystem, PreparedSystem } from './system.js';

/** Our engine with a recurrent strategy ('auto' unless the benchmark forces one). */
export const webgpuRnnSystem = (strategy: StrategyChoice = 'auto'): BenchSystem => ({
  name: 'webgpu-rnn',
  async prepare(w, device): Promise<PreparedSystem> {
    const rnn = (await createRnn({ config: w.config, weights: w.weights, device, strategy })) as WebGpuRnn;
    const resolved = rnn.gpu.strategyFor(w.shape.B, rnn.strategy);
    return {
      note: `${resolved} strategy${strategy === 'auto' ? ' (auto)' : ''}, ${rnn.gpu.dispatchCount(w.shape.T, resolved)} dispatches by construction`,
      run: async () => (await rnn.forward(w.input)).output.data as Float32Array,
      heldGpuBytes: () => rnn.gpu.heldBytes(),
      dispose: () => rnn.destroy(),
    };
  },
});

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
