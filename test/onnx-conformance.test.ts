// ONNX's own backend node tests for LSTM, GRU and RNN (test/fixtures/onnx-conformance, copied from
// ../shared/onnx-conformance; source in its README): every case through loadOnnx on the CPU backend
// and on WebGPU, outputs against ONNX's expected ones. Cases the GPU kernels do not cover (GRU with
// linear_before_reset = 0, peepholes) run on the float64 ONNX path and say so in `placement`.
import { readFile, readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../src/onnx/model.js';
import { decodeTensor } from '../src/onnx/schema.js';
import { valueFromProto } from '../src/onnx/values.js';
import type { IntTensor, Tensor } from '../src/tensor.js';
import { expectClose } from './support/compare.js';

const dir = new URL('./fixtures/onnx-conformance/', import.meta.url);
const cases = (await readdir(dir)).filter((d) => d.startsWith('test_')).sort();

async function load(name: string) {
  const model = new Uint8Array(await readFile(new URL(`${name}/model.onnx`, dir)));
  const files = await readdir(new URL(`${name}/test_data_set_0/`, dir));
  const read = async (prefix: string) =>
    Promise.all(
      files
        .filter((f) => f.startsWith(prefix))
        .sort()
        .map(async (f) => valueFromProto(await decodeTensor(new Uint8Array(await readFile(new URL(`${name}/test_data_set_0/${f}`, dir)))), f)),
    );
  return { model, inputs: await read('input_'), outputs: await read('output_') };
}

describe('ONNX conformance (onnx/backend/test/data/node)', () => {
  it('has the 12 cases', () => expect(cases).toHaveLength(12));

  it.each(
    cases.flatMap(
      (c) =>
        [
          [c, 'cpu'],
          [c, 'webgpu'],
        ] as const,
    ),
  )('%s on %s', async (name, backend) => {
    const { model, inputs, outputs } = await load(name);
    const m = await loadOnnx(model, { backend });
    try {
      const feeds: Record<string, Tensor | IntTensor> = {};
      m.inputs.forEach((io, i) => {
        const v = inputs[i];
        feeds[io.name] = v.kind === 'int' ? { shape: [...v.dims], data: Int32Array.from(v.data) } : { shape: [...v.dims], data: Float32Array.from(v.data) };
      });
      const got = await m.run(feeds);
      m.outputs.forEach((io, i) =>
        expectClose(`${name} ${io.name}`, got[io.name] as Tensor, { shape: [...outputs[i].dims], data: outputs[i].data }, backend === 'cpu' ? 1e-6 : 1e-4),
      );
      // Where the node ran: the engine on the chosen backend, unless the GPU kernels do not compute it.
      const expected = /gru/.test(name)
        ? /^float64 ONNX path \(linear_before_reset = 0/
        : /peepholes/.test(name)
          ? /^float64 ONNX path \(peepholes\)/
          : new RegExp(`^${backend} \\(weights are graph inputs`);
      expect(m.placement[0].runsOn).toMatch(expected);
    } finally {
      m.destroy();
    }
  });
});
