// What users bring: files written by PyTorch's own torch.onnx.export (test/fixtures/onnx-pytorch, made
// by test/fixtures/generate_onnx.py with torch 1.13, opset 14, constant folding, PyTorch's input /
// output names and dynamic seq / batch axes). Every mode (RNN tanh / relu, LSTM, GRU), 1 and 2 layers,
// uni- and bidirectional, batch_first, with and without h0 / c0, without bias, an nn.Linear head on the
// sequence (MatMul + Add) and on the last step (Gather + Gemm), and a file run at other sizes than it
// was exported with. loadOnnx must read what the exporter wrote (its glue operators, its weight
// layout), put every recurrent node on the engine (not the float64 fallback), keep PyTorch's input and
// output names, and give PyTorch's numbers: against the float64 module (module.double() on the same
// float32 weights and feeds), on the CPU backend and on WebGPU.
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOnnx } from '../../src/onnx/model.js';
import { readSafetensors } from '../../src/safetensors.js';
import type { Tensor } from '../../src/tensor.js';
import { GPU_RTOL, expectClose } from '../support/compare.js';

interface Case {
  name: string;
  onnx: string;
  file: string;
  mode: 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';
  options: { input_size: number; hidden_size: number; num_layers: number; bias: boolean; batch_first: boolean; bidirectional: boolean };
  head: null | 'linear_seq' | 'linear_last';
  export_T: number;
  export_B: number;
  T: number;
  B: number;
  inputs: string[];
  outputs: string[];
  torch_version: string;
}

const dir = new URL('../fixtures/onnx-pytorch/', import.meta.url);
const manifest = JSON.parse(await readFile(new URL('manifest.json', dir), 'utf8')) as { torch_version: string; opset_version: number; cases: Case[] };

// The CPU backend computes in float64 from the file's float32 weights and the float32 feeds, which is
// exactly what PyTorch's float64 truth computed from (the same values cast up); the glue runs in float64
// too. What remains is loadOnnx handing its outputs back as Float32Array: one rounding to float32,
// at most 2^-24 ≈ 6e-8 of each element (measured: about 3e-8 over a tensor). 1e-7 holds that with margin,
// and is still 1000× below GPU_RTOL, so a wrong gate order or a dropped bias (errors of order 1) fails.
const CPU_RTOL_F32_OUT = 1e-7;

/** The worst relative error seen, per backend, printed at the end. */
const worst: Record<string, { err: number; where: string }> = {};
const note = (key: string, err: number, where: string) => {
  if (!worst[key] || err > worst[key].err) worst[key] = { err, where };
};
afterAll(() => {
  for (const [key, { err, where }] of Object.entries(worst)) console.log(`max relative error ${key}: ${err.toExponential(2)} (${where})`);
});

describe('PyTorch torch.onnx.export files through loadOnnx', () => {
  it('the manifest lists the cases', () => {
    expect(manifest.cases.length).toBeGreaterThanOrEqual(12);
    expect(manifest.opset_version).toBe(14);
    expect(new Set(manifest.cases.map((c) => c.mode))).toEqual(new Set(['RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU']));
    // One case runs at other sizes than the export's example: the dynamic axes are really dynamic.
    expect(manifest.cases.some((c) => c.T !== c.export_T && c.B !== c.export_B)).toBe(true);
  });

  it.each(
    manifest.cases.flatMap(
      (c) =>
        [
          [c.name, 'cpu', c],
          [c.name, 'webgpu', c],
        ] as const,
    ),
  )('%s on %s', async (_name, backend, c) => {
    const bytes = new Uint8Array(await readFile(new URL(c.onnx, dir)));
    const { tensors } = readSafetensors(new Uint8Array(await readFile(new URL(c.file, dir))));
    const feeds: Record<string, Tensor> = {};
    for (const name of c.inputs) {
      const t = tensors[name] as Tensor;
      expect(t.data).toBeInstanceOf(Float32Array);
      feeds[name] = t;
    }
    const model = await loadOnnx(bytes, { backend });
    try {
      expect(model.backend).toBe(backend);
      expect(model.inputs.map((io) => io.name)).toEqual(c.inputs);
      expect(model.outputs.map((io) => io.name)).toEqual(c.outputs);
      // One node per layer, each on the engine of the chosen backend with its weights uploaded at load.
      expect(model.placement.map((p) => p.op)).toEqual(Array(c.options.num_layers).fill(c.mode.startsWith('RNN') ? 'RNN' : c.mode));
      for (const p of model.placement) expect(p.runsOn, `${p.node}`).toBe(backend);
      // A multi-layer module's nodes run as one engine model (one forward, no host trip between layers).
      const L = c.options.num_layers;
      expect(model.placement.map((p) => p.stack)).toEqual(L > 1 ? Array.from({ length: L }, (_, layer) => ({ layer, layers: L })) : [undefined]);

      const got = await model.run(feeds);
      expect(Object.keys(got).sort()).toEqual([...c.outputs].sort());
      for (const name of c.outputs) {
        const truth = tensors[`expected.${name}`] as Tensor;
        const err = expectClose(`${c.name} ${name} (${backend})`, got[name] as Tensor, truth, backend === 'cpu' ? CPU_RTOL_F32_OUT : GPU_RTOL);
        note(backend, err, `${c.name} ${name}`);
        if (backend === 'cpu') {
          // For scale: PyTorch's own float32 module against the same truth (the fixture is consistent).
          note(
            'pytorch float32',
            expectClose(`${c.name} ${name} (PyTorch float32)`, tensors[`expected32.${name}`] as Tensor, truth, GPU_RTOL),
            `${c.name} ${name}`,
          );
        }
      }
    } finally {
      model.destroy();
    }
  });
});
