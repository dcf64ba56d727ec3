/**
 * The ONNX commands of `webgpu-rnn` (exact contracts; external checks script them):
 *
 *   onnx        --model m.onnx --inputs in.safetensors --out out.safetensors [--backend webgpu|cpu]
 *               runs the graph: the inputs file holds one tensor per graph input, under its name
 *               (floats as F32/F64/F16, integer inputs such as sequence_lens or token ids as I32/I64);
 *               writes every graph output under its name, floats as F32 (integers as I32).
 *   export-onnx --config config.json --weights model.safetensors --out model.onnx [--prefix P] [--lengths] [--no-initial-states]
 *               an RNN / LSTM / GRU module (PyTorch's constructor arguments and state_dict) as the graph
 *               torch.onnx.export makes: inputs input, h0 (, c0) (, lengths), outputs output, h_n (, c_n)
 *   export-onnx --model model.json --weights trained.safetensors --out model.onnx [--lengths]
 *               the training API's model (embedding → RNN → head) to `output`; --model may be left out
 *               when the weights file carries the model in its metadata (trainer.stateDict() and
 *               `train --text` write it), whose other metadata (a vocabulary) goes into the ONNX file.
 */
import { type OptionSpecs, parseCommandLine } from '../cli-args.js';
import { checkOutput, readInputFile, readJson, readTensors, writeOutput } from '../cli-files.js';
import { resolveConfig } from '../config.js';
import { RnnError } from '../errors.js';
import { selectPrefix } from '../params.js';
import { writeSafetensors } from '../safetensors.js';
import type { IntTensor, Tensor } from '../tensor.js';
import { loadOnnx } from './model.js';
import { exportModelOnnx, exportRnnOnnx } from './write.js';

export const ONNX_COMMANDS = ['onnx', 'export-onnx'] as const;
type OnnxCommand = (typeof ONNX_COMMANDS)[number];

export const ONNX_USAGE = `  webgpu-rnn onnx --model m.onnx --inputs in.safetensors --out out.safetensors [--backend webgpu|cpu]
  webgpu-rnn export-onnx --config config.json --weights model.safetensors --out model.onnx [--prefix P] [--lengths] [--no-initial-states]
  webgpu-rnn export-onnx [--model model.json] --weights trained.safetensors --out model.onnx [--lengths]`;

const SPECS: Record<OnnxCommand, OptionSpecs> = {
  onnx: { model: { type: 'string' }, inputs: { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' } },
  'export-onnx': {
    config: { type: 'string' },
    model: { type: 'string' },
    weights: { type: 'string' },
    out: { type: 'string' },
    prefix: { type: 'string' },
    lengths: { type: 'boolean' },
    'no-initial-states': { type: 'boolean' },
  },
};

function parse(command: OnnxCommand, argv: readonly string[], required: readonly string[]): Record<string, string | true> {
  const { options, positionals } = parseCommandLine(argv, SPECS[command]);
  if (positionals.length > 1) throw new RnnError('USAGE', `unexpected argument ${JSON.stringify(positionals[1])}`);
  const values: Record<string, string | true> = {};
  for (const o of options) values[o.name] = o.value ?? true;
  for (const r of required) if (values[r] === undefined) throw new RnnError('USAGE', `missing --${r}`);
  return values;
}

async function runOnnx(argv: readonly string[]): Promise<number> {
  const v = parse('onnx', argv, ['model', 'inputs', 'out']) as Record<string, string>;
  const backend = v.backend ?? 'webgpu';
  if (backend !== 'webgpu' && backend !== 'cpu') throw new RnnError('USAGE', `--backend must be webgpu or cpu, got ${JSON.stringify(backend)}`);
  const bytes = new Uint8Array(await readInputFile('--model', v.model, 'an ONNX file'));
  const feeds = (await readTensors('--inputs', v.inputs)).tensors;
  await checkOutput(v.out);
  const named = (e: unknown, option: string, path: string) =>
    e instanceof RnnError ? new RnnError(e.code, `${option} ${path}: ${e.message}`, { cause: e }) : e;
  const model = await loadOnnx(bytes, { backend }).catch((e: unknown) => {
    throw named(e, '--model', v.model);
  });
  try {
    const outputs = await model.run(feeds).catch((e: unknown) => {
      throw named(e, '--inputs', v.inputs);
    });
    await writeOutput(v.out, writeSafetensors(outputs as Record<string, Tensor | IntTensor>, { floatDtype: 'F32', metadata: { backend: model.backend } }));
    return 0;
  } finally {
    model.destroy();
  }
}

async function runExport(argv: readonly string[]): Promise<number> {
  const v = parse('export-onnx', argv, ['weights', 'out']);
  const str = (name: string) => v[name] as string | undefined;
  if (v.config !== undefined && v.model !== undefined)
    throw new RnnError('USAGE', '--config (an RNN module) and --model (a training API model) exclude each other');
  if (v.config === undefined && (v.prefix !== undefined || v['no-initial-states'] !== undefined)) {
    throw new RnnError('USAGE', `--${v.prefix !== undefined ? 'prefix' : 'no-initial-states'} applies to an RNN module given with --config`);
  }
  const weightsPath = str('weights')!;
  const file = await readTensors('--weights', weightsPath);
  await checkOutput(str('out')!);
  const lengths = v.lengths === true;
  let bytes: Uint8Array;
  if (v.config !== undefined) {
    const config = resolveConfig((await readJson('--config', str('config')!, 'CONFIG_INVALID')) as Record<string, unknown>);
    const weights =
      str('prefix') !== undefined ? selectPrefix(file.tensors as Record<string, Tensor>, str('prefix')!) : (file.tensors as Record<string, Tensor>);
    bytes = await exportRnnOnnx(config, weights, { lengths, initialStates: v['no-initial-states'] !== true });
  } else {
    let model: unknown;
    if (v.model !== undefined) model = await readJson('--model', str('model')!, 'CONFIG_INVALID');
    else if (file.metadata.model !== undefined) {
      try {
        model = JSON.parse(file.metadata.model);
      } catch (e) {
        throw new RnnError('WEIGHTS_INVALID', `--weights ${weightsPath}: unreadable model in its metadata (${(e as Error).message})`, { cause: e });
      }
    } else {
      throw new RnnError('USAGE', `missing --config or --model (the weights file ${weightsPath} carries no model in its metadata)`);
    }
    const { model: _, format: __, ...carried } = file.metadata; // the model is written from the resolved config
    bytes = await exportModelOnnx(model as Parameters<typeof exportModelOnnx>[0], file.tensors as Record<string, Tensor>, { lengths, metadata: carried });
  }
  await writeOutput(str('out')!, bytes);
  return 0;
}

export function runOnnxCommand(command: OnnxCommand, argv: readonly string[]): Promise<number> {
  return command === 'onnx' ? runOnnx(argv) : runExport(argv);
}
