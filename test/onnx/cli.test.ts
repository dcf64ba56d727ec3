// The ONNX commands end to end: the built CLI (bin/webgpu-rnn.js → dist/cli.js) as a child process.
//  - `onnx` runs a file on PyTorch fixtures' inputs and reproduces PyTorch's outputs on both backends,
//    inputs and outputs named by the graph;
//  - `export-onnx` writes an RNN module's file that ONNX Runtime runs to PyTorch's outputs, and a
//    trained model's file from a stateDict checkpoint (the model taken from its metadata);
//  - every mistake is one line naming the file and what is wrong, with the exit codes of `forward`.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnx } from '../../src/onnx/model.js';
import { GraphBuilder, exportRnnOnnx } from '../../src/onnx/write.js';
import { DataType } from '../../src/onnx/schema.js';
import { lengthsToInt32, readSafetensors, writeSafetensors } from '../../src/safetensors.js';
import type { IntTensor, Tensor } from '../../src/tensor.js';
import { createTrainer } from '../../src/train/trainer.js';
import { GPU_RTOL, expectClose } from '../support/compare.js';
import { loadFixture, loadManifest } from '../support/fixtures.js';
import { loadNodeBytes } from '../support/node-fixtures.js';
import { runOrt } from '../support/ort.js';
import { expectUserError, runCli } from '../support/cli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const manifest = await loadManifest(loadNodeBytes);
let dir = '';

const path = (name: string) => join(dir, name);

/** A PyTorch fixture as an ONNX file (with h0 / c0 / lengths inputs) and an inputs file of the graph's names. */
async function fixtureFiles(prefix: string, tag: string) {
  const meta = manifest.cases.find((c) => c.name.startsWith(prefix))!;
  const f = await loadFixture(loadNodeBytes, meta);
  const lengths = f.options.lengths && lengthsToInt32(f.options.lengths as IntTensor);
  await writeFile(path(`${tag}.onnx`), await exportRnnOnnx(meta.config, f.weights, { initialStates: !!f.options.h0, lengths: !!lengths }));
  const inputs: Record<string, Tensor | IntTensor> = { input: f.input };
  if (f.options.h0) inputs.h0 = f.options.h0;
  if (f.options.c0) inputs.c0 = f.options.c0;
  // I64 as PyTorch writes integer tensors; the graph's lengths input is int32 and takes them.
  if (lengths) inputs.lengths = { shape: [lengths.length], data: BigInt64Array.from(Array.from(lengths, BigInt)) };
  await writeFile(path(`${tag}.in.safetensors`), writeSafetensors(inputs, { floatDtype: 'F32' }));
  return { f, meta, inputs };
}

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/cli.js'))) throw new Error('dist/cli.js is missing: run `npm run build` (scripts/test.sh does) before this test');
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rnn-onnx-cli-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('webgpu-rnn onnx', () => {
  it.each([
    ['lstm_l2_bi_len_sat', 'webgpu'],
    ['lstm_l2_bi_len_sat', 'cpu'],
    ['gru_l3_bi_bf_nobias_h0_len', 'webgpu'],
    ['gru_l3_bi_bf_nobias_h0_len', 'cpu'],
    ['rnn_relu_l2_bi_h0_len', 'webgpu'],
  ] as const)("%s --backend %s reproduces PyTorch, outputs under the graph's names as F32", async (prefix, backend) => {
    const tag = `${prefix}-${backend}`;
    const { f } = await fixtureFiles(prefix, tag);
    const r = await runCli([
      'onnx',
      '--model',
      path(`${tag}.onnx`),
      '--inputs',
      path(`${tag}.in.safetensors`),
      '--out',
      path(`${tag}.out.safetensors`),
      '--backend',
      backend,
    ]);
    expect(r.stderr.includes('webgpu-rnn:') ? r.stderr : '').toBe(''); // (Dawn's adapter warnings aside)
    expect(r.code).toBe(0);
    const out = readSafetensors(new Uint8Array(await readFile(path(`${tag}.out.safetensors`))));
    const expected = Object.entries(f.expected).filter(([, t]) => t !== undefined) as Array<[string, Tensor]>;
    expect(Object.keys(out.tensors).sort()).toEqual(expected.map(([name]) => name).sort());
    expect(Object.values(out.dtypes).every((d) => d === 'F32')).toBe(true);
    expect(out.metadata.backend).toBe(backend);
    // F32 files: even the float64 backend is judged at f32 storage precision.
    const rtol = backend === 'cpu' ? 1e-6 : GPU_RTOL;
    for (const [name, truth] of expected) expectClose(name, out.tensors[name] as Tensor, truth, rtol);
  });

  it('says what the model, the inputs or the output path get wrong, in one line', async () => {
    await fixtureFiles('gru_l1_uni_i3_h5', 'gru');
    const out = path('never.safetensors');
    const args = (model: string, inputs: string, o = out) => ['onnx', '--model', model, '--inputs', inputs, '--out', o, '--backend', 'cpu'];
    expectUserError(await runCli(args(path('missing.onnx'), path('gru.in.safetensors'))), 'FILE', /--model .*missing\.onnx: no such file/, out);
    expectUserError(
      await runCli(args(path('gru.in.safetensors'), path('gru.in.safetensors'))),
      'ONNX_INVALID',
      /--model .*gru\.in\.safetensors: not an ONNX model/,
      out,
    );
    // A graph with an operator this library does not run: named at load, before anything runs.
    const g = new GraphBuilder();
    g.io('inputs', 'x', DataType.FLOAT, ['n']);
    g.node('Erf', ['x'], ['y']);
    g.io('outputs', 'y', DataType.FLOAT, ['n']);
    await writeFile(path('erf.onnx'), await g.bytes('erf'));
    expectUserError(await runCli(args(path('erf.onnx'), path('gru.in.safetensors'))), 'ONNX_UNSUPPORTED', /operator Erf/, out);
    // Inputs named otherwise than the graph's.
    await writeFile(path('wrong.in.safetensors'), writeSafetensors({ x: { shape: [4, 2, 3], data: new Float32Array(24) } }));
    expectUserError(
      await runCli(args(path('gru.onnx'), path('wrong.in.safetensors'))),
      'TENSOR_INVALID',
      /--inputs .*wrong\.in\.safetensors: feeds: unknown input "x" \(the graph's inputs: input\)/,
      out,
    );
    await writeFile(path('none.in.safetensors'), writeSafetensors({}));
    expectUserError(
      await runCli(args(path('gru.onnx'), path('none.in.safetensors'))),
      'TENSOR_INVALID',
      /missing input "input" \(FLOAT \[seq, batch, 3\]\)/,
      out,
    );
    expectUserError(
      await runCli(args(path('gru.onnx'), path('gru.in.safetensors'), path('no-such-folder/out.safetensors'))),
      'FILE',
      /--out .*folder .*no-such-folder does not exist/,
      path('no-such-folder/out.safetensors'),
    );
    expectUserError(await runCli(['onnx', '--model', path('gru.onnx'), '--out', out]), 'USAGE', /missing --inputs/, out);
    expectUserError(await runCli([...args(path('gru.onnx'), path('gru.in.safetensors')), '--backend', 'gpu']), 'USAGE', /--backend must be webgpu or cpu/, out);
  });
});

describe('webgpu-rnn export-onnx', () => {
  it("an RNN module (config + state_dict, here under a parent module's prefix) that ONNX Runtime runs to PyTorch's outputs", async () => {
    const meta = manifest.cases.find((c) => c.name.startsWith('lstm_l3_bi_bf_h0_len'))!;
    const f = await loadFixture(loadNodeBytes, meta);
    await writeFile(path('m.json'), JSON.stringify(meta.config));
    const parent = Object.fromEntries(Object.entries(f.weights).map(([k, v]) => [`encoder.rnn.${k}`, v]));
    await writeFile(path('m.safetensors'), writeSafetensors(parent, { floatDtype: 'F32' }));
    const r = await runCli([
      'export-onnx',
      '--config',
      path('m.json'),
      '--weights',
      path('m.safetensors'),
      '--prefix',
      'encoder.rnn.',
      '--lengths',
      '--out',
      path('m.onnx'),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const bytes = new Uint8Array(await readFile(path('m.onnx')));
    const feeds = {
      input: f.input,
      h0: f.options.h0!,
      c0: f.options.c0!,
      lengths: { shape: [f.input.shape[0]], data: lengthsToInt32(f.options.lengths as IntTensor) },
    };
    const ort = await runOrt(bytes, feeds, ['lengths']);
    for (const [name, truth] of Object.entries(f.expected)) if (truth) expectClose(`ORT ${name}`, ort[name], truth, 1e-5);
    const model = await loadOnnx(bytes, { backend: 'cpu' });
    expect(JSON.parse(model.metadata.config)).toMatchObject(meta.config);
    model.destroy();
  });

  it("a trained model from its stateDict checkpoint alone (the model and vocabulary from the file's metadata)", async () => {
    const trainer = await createTrainer({
      model: {
        embedding: { num_embeddings: 7, embedding_dim: 3 },
        rnn: { mode: 'GRU', input_size: 3, hidden_size: 5 },
        head: { out_features: 7 },
        loss: 'cross_entropy',
      },
      backend: 'cpu',
      init: { seed: 3 },
    });
    try {
      const checkpoint = await trainer.stateDict();
      const file = readSafetensors(checkpoint);
      await writeFile(
        path('lm.safetensors'),
        writeSafetensors(file.tensors, { floatDtype: 'F32', metadata: { ...file.metadata, vocabulary: '["a","b","c","d","e","f","g"]' } }),
      );
      const r = await runCli(['export-onnx', '--weights', path('lm.safetensors'), '--out', path('lm.onnx')]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const model = await loadOnnx(new Uint8Array(await readFile(path('lm.onnx'))), { backend: 'cpu' });
      try {
        expect(model.inputs.map((i) => [i.name, i.type, i.shape])).toEqual([['tokens', 'INT64', ['seq', 'batch']]]);
        expect(model.metadata.vocabulary).toBe('["a","b","c","d","e","f","g"]');
        expect(JSON.parse(model.metadata.model)).toEqual(trainer.model);
        const tokens = { shape: [4, 2], data: Int32Array.of(0, 6, 1, 5, 2, 4, 3, 3) };
        expectClose('output', (await model.run({ tokens })).output as Tensor, await trainer.predict({ tokens }), 1e-6);
      } finally {
        model.destroy();
      }
      // Without the model in the metadata, --model is needed and the message says so.
      await writeFile(path('bare.safetensors'), writeSafetensors(file.tensors));
      expectUserError(
        await runCli(['export-onnx', '--weights', path('bare.safetensors'), '--out', path('bare.onnx')]),
        'USAGE',
        /missing --config or --model \(the weights file .*bare\.safetensors carries no model in its metadata\)/,
        path('bare.onnx'),
      );
      await writeFile(path('lm.json'), JSON.stringify(trainer.model));
      expect((await runCli(['export-onnx', '--model', path('lm.json'), '--weights', path('bare.safetensors'), '--out', path('bare.onnx')])).code).toBe(0);
    } finally {
      await trainer.destroy();
    }
  });

  it('says what is wrong in one line', async () => {
    const out = path('x.onnx');
    await writeFile(path('proj.json'), JSON.stringify({ mode: 'LSTM', input_size: 2, hidden_size: 3, proj_size: 1 }));
    await writeFile(path('empty.safetensors'), writeSafetensors({}));
    expectUserError(
      await runCli(['export-onnx', '--config', path('proj.json'), '--weights', path('empty.safetensors'), '--out', out]),
      'WEIGHTS_INVALID',
      /missing tensor weight_ih_l0/,
      out,
    );
    expectUserError(
      await runCli(['export-onnx', '--config', path('proj.json'), '--model', path('proj.json'), '--weights', path('empty.safetensors'), '--out', out]),
      'USAGE',
      /--config .* and --model .* exclude each other/,
      out,
    );
    expectUserError(
      await runCli(['export-onnx', '--model', path('proj.json'), '--weights', path('empty.safetensors'), '--prefix', 'a.', '--out', out]),
      'USAGE',
      /--prefix applies to an RNN module given with --config/,
      out,
    );
    expectUserError(
      await runCli(['export-onnx', '--weights', path('empty.safetensors'), '--out', out, '--lengths=1']),
      'USAGE',
      /--lengths takes no value/,
      out,
    );
  });
});
