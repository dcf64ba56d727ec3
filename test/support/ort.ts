/**
 * ONNX Runtime (onnxruntime-web's WebAssembly build, in Node) as the independent reference for the
 * ONNX tests: runs a model's bytes on feeds and returns every output as float64.
 */
import type { IntTensor, Tensor } from '../../src/tensor.js';

type Ort = typeof import('onnxruntime-web');
let ort: Promise<Ort> | undefined;

async function runtime(): Promise<Ort> {
  ort ??= import('onnxruntime-web').then((m) => {
    m.env.wasm.numThreads = 1;
    m.env.logLevel = 'error';
    return m;
  });
  return ort;
}

/** Integer feeds go in as the graph declares them: int64 unless `int32` names them. */
export async function runOrt(bytes: Uint8Array, feeds: Record<string, Tensor | IntTensor>, int32: readonly string[] = []): Promise<Record<string, Tensor>> {
  const m = await runtime();
  const session = await m.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const inputs: Record<string, import('onnxruntime-web').Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      const isInt = t.data instanceof Int32Array || t.data instanceof BigInt64Array;
      inputs[name] = !isInt
        ? new m.Tensor('float32', Float32Array.from(t.data as ArrayLike<number>), [...t.shape])
        : int32.includes(name)
          ? new m.Tensor('int32', Int32Array.from(t.data as ArrayLike<number>), [...t.shape])
          : new m.Tensor('int64', BigInt64Array.from(Array.from(t.data as ArrayLike<number>, (v) => BigInt(v))), [...t.shape]);
    }
    const out = await session.run(inputs);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { shape: [...v.dims], data: Float64Array.from(v.data as ArrayLike<number>) }]));
  } finally {
    await session.release();
  }
}
