/** Our systems as benchmark entries: the WebGPU engine, the same model as an ONNX file through loadOnnx, and the float64 CPU reference. */
import { diagnostics } from '../diagnostics.js';
import type { Precision } from '../gpu/wgsl.js';
import { loadOnnx } from '../onnx/model.js';
import { exportRnnOnnx } from '../onnx/write.js';
import type { StrategyChoice } from '../gpu/strategy.js';
import { type Rnn, createRnn } from '../rnn.js';
import { relativeError } from '../relative-error.js';
import type { BenchSystem, PreparedSystem, Workload } from './system.js';

/**
 * Our engine with a recurrent strategy ('auto' unless the benchmark forces one), with f32 weights or,
 * as `webgpu-rnn-f16`, half-precision ones (any adapter). The f16 system's note gives its
 * output's relative error vs the f32 path on the same workload.
 */
export const webgpuRnnSystem = (strategy: StrategyChoice = 'auto', precision: Precision = 'f32'): BenchSystem => ({
  name: precision === 'f16' ? 'webgpu-rnn-f16' : 'webgpu-rnn',
  async prepare(w, device): Promise<PreparedSystem> {
    const rnn = await createRnn({ config: w.config, weights: w.weights, device, strategy, precision });
    const plan = diagnostics(rnn).gpu!.plan(w.shape.T, w.shape.B);
    const notes = [`${plan.strategy} strategy${strategy === 'auto' ? ' (auto)' : ''}, ${plan.dispatches} dispatches by construction`];
    if (precision === 'f16') notes.push(`f16 weights: output vs the f32 path ${(await errorVsF32(rnn, w, device, strategy)).toExponential(1)}`);
    return {
      note: notes.join('; '),
      run: async () => (await rnn.forward(w.input)).output.data as Float32Array,
      heldGpuBytes: () => diagnostics(rnn).gpu!.heldBytes,
      dispose: () => rnn.destroy(),
    };
  },
});

/**
 * The ONNX row: the very file the ort-webgpu peer runs (exportRnnOnnx, zero initial states) loaded by
 * loadOnnx on the bench device, so the two differ only in who runs the file. Its time includes what
 * the ONNX path adds to the engine's forward: the host-side glue operators around the recurrent nodes
 * (a multi-layer file's layers run as one engine model) and float64 copies of the graph's values.
 */
export const webgpuRnnOnnxSystem: BenchSystem = {
  name: 'webgpu-rnn-onnx',
  async prepare(w, device): Promise<PreparedSystem> {
    const model = await loadOnnx(await exportRnnOnnx(w.config, w.weights, { initialStates: false }), { backend: 'webgpu', device });
    const nodes = model.placement.map((p) => p.runsOn);
    if (nodes.some((n) => n !== 'webgpu')) throw new Error(`webgpu-rnn-onnx: a recurrent node is not on the GPU engine (${nodes.join('; ')})`);
    return {
      note: `the ort-webgpu file through loadOnnx: ${nodes.length} recurrent node${nodes.length > 1 ? 's' : ''} on the engine${model.placement.some((p) => p.stack) ? ' as one model' : ''}, glue on the host`,
      run: async () => (await model.run({ input: w.input })).output.data as Float32Array,
      dispose: () => model.destroy(),
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

/** ‖out_f16 − out_f32‖ / ‖out_f32‖ on the workload's input. */
async function errorVsF32(half: Rnn, w: Workload, device: GPUDevice, strategy: StrategyChoice): Promise<number> {
  const full = await createRnn({ config: w.config, weights: w.weights, device, strategy });
  try {
    return relativeError((await half.forward(w.input)).output.data, (await full.forward(w.input)).output.data);
  } finally {
    full.destroy();
  }
}
