/**
 * The `webgpu-rnn` command (Node):
 *
 *   webgpu-rnn forward --config config.json --weights model.safetensors --inputs io.safetensors
 *                      --out out.safetensors [--backend webgpu|cpu]
 *
 * (the training commands are in train/cli.ts, the ONNX commands in onnx/cli.ts)
 *
 * config.json holds PyTorch's constructor arguments; the weights file a state_dict; the inputs file
 * `input` and optionally `h0`, `c0`, `lengths` (I32 or I64). Writes `output`, `h_n` (and `c_n` for
 * LSTM) as F32.
 *
 * Every mistake of the user's is an RnnError, printed as one line `webgpu-rnn: <message> [<CODE>]`:
 * exit code 2 for the command line itself ('USAGE', followed by the usage text), 1 for the rest
 * ('FILE' for a file that cannot be read or written, the library's codes for what the files hold).
 * Anything else is a bug in this library and is printed with its stack.
 */
import { type OptionSpecs, parseCommandLine } from './cli-args.js';
import { checkOutput, readJson, readTensors, writeOutput } from './cli-files.js';
import { ONNX_COMMANDS, ONNX_USAGE, runOnnxCommand } from './onnx/cli.js';
import { TRAIN_COMMANDS, TRAIN_USAGE, runTrainCommand } from './train/cli.js';
import { type RnnConfig, resolveConfig } from './config.js';
import { RnnError } from './errors.js';
import type { ForwardOptions } from './inputs.js';
import { type Backend, createRnn } from './rnn.js';
import { isIntTensor, lengthsToInt32, writeSafetensors } from './safetensors.js';
import type { IntTensor, Tensor } from './tensor.js';

export const USAGE = `Usage:
  webgpu-rnn forward --config config.json --weights model.safetensors --inputs io.safetensors --out out.safetensors [--backend webgpu|cpu] [--prefix P]
${TRAIN_USAGE}
${ONNX_USAGE}

  config.json   PyTorch constructor arguments, e.g. {"mode": "LSTM", "input_size": 16, "hidden_size": 32,
                "num_layers": 2, "bias": true, "batch_first": false, "bidirectional": true, "proj_size": 0}
  --weights     the module's state_dict as safetensors (weight_ih_l0, weight_hh_l0, bias_ih_l0, ...)
  --inputs      safetensors with "input" and optionally "h0", "c0", "lengths" (I32 or I64)
  --out         written with "output", "h_n" and, for LSTM, "c_n" (F32)
  --backend     webgpu (default) or cpu (float64 reference)
  --prefix      take only the weights whose names start with P, e.g. encoder.rnn. (a parent module's state_dict)
  onnx          runs an ONNX file: --inputs holds one tensor per graph input under its name; --out gets every
                graph output under its name (floats as F32, integers as I32)
  export-onnx   writes an ONNX file that ONNX Runtime runs: an RNN module (--config), or a training API model
                (--model, or the model in the weights file's metadata); --lengths adds a lengths input
  Options take their value as --name value or --name=value.`;

interface ForwardArgs {
  config: string;
  weights: string;
  inputs: string;
  out: string;
  backend: Backend;
  prefix?: string;
}

const FORWARD_OPTIONS: OptionSpecs = {
  config: { type: 'string' },
  weights: { type: 'string' },
  inputs: { type: 'string' },
  out: { type: 'string' },
  backend: { type: 'string' },
  prefix: { type: 'string' },
};
const REQUIRED = ['config', 'weights', 'inputs', 'out'] as const;
const COMMANDS = ['forward', ...TRAIN_COMMANDS, ...ONNX_COMMANDS];
const INPUT_NAMES = new Set(['input', 'h0', 'c0', 'lengths']);

/** Parses the command line; throws RnnError 'USAGE' naming the first mistake. */
export function parseArgs(argv: string[]): { command: 'help' } | { command: 'forward'; args: ForwardArgs } {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') return { command: 'help' };
  const { options, positionals } = parseCommandLine(argv, FORWARD_OPTIONS);
  const [command, ...extra] = positionals;
  if (command === undefined) throw new RnnError('USAGE', `missing command (expected one of ${COMMANDS.join(', ')})`);
  if (command !== 'forward') throw new RnnError('USAGE', `unknown command ${JSON.stringify(command)} (expected one of ${COMMANDS.join(', ')})`);
  if (extra.length) throw new RnnError('USAGE', `unexpected argument ${JSON.stringify(extra[0])}`);
  const values: Record<string, string> = {};
  for (const o of options) values[o.name] = o.value!;
  for (const required of REQUIRED) {
    if (values[required] === undefined) throw new RnnError('USAGE', `missing --${required}`);
  }
  const backend = values.backend ?? 'webgpu';
  if (backend !== 'webgpu' && backend !== 'cpu') throw new RnnError('USAGE', `--backend must be webgpu or cpu, got ${JSON.stringify(backend)}`);
  return {
    command: 'forward',
    args: { config: values.config, weights: values.weights, inputs: values.inputs, out: values.out, backend, prefix: values.prefix },
  };
}

/** Reads and checks the --config file: PyTorch's constructor arguments as JSON. */
async function readConfig(path: string): Promise<RnnConfig> {
  return resolveConfig((await readJson('--config', path, 'CONFIG_INVALID')) as Record<string, unknown>);
}

/** Splits an inputs file into the forward call's tensors, rejecting anything unexpected. */
function forwardInputs(path: string, tensors: Record<string, Tensor | IntTensor>): { input: Tensor; options: ForwardOptions } {
  const fail = (message: string): never => {
    throw new RnnError('TENSOR_INVALID', `--inputs ${path}: ${message}`);
  };
  const unexpected = Object.keys(tensors).filter((n) => !INPUT_NAMES.has(n));
  if (unexpected.length) fail(`unexpected tensor(s) ${unexpected.join(', ')} (expected input, h0, c0, lengths)`);
  const float = (name: string): Tensor | undefined => {
    const t = tensors[name];
    if (t && isIntTensor(t)) fail(`tensor ${name} must be floating point`);
    return t as Tensor | undefined;
  };
  const input = float('input') ?? fail('missing tensor "input"');
  const lengths = tensors.lengths;
  if (lengths && !isIntTensor(lengths)) fail('tensor lengths must be I32 or I64');
  return { input, options: { h0: float('h0'), c0: float('c0'), lengths: lengths ? lengthsToInt32(lengths as IntTensor) : undefined } };
}

export async function runForward(args: ForwardArgs): Promise<void> {
  const config = await readConfig(args.config);
  const weights = await readTensors('--weights', args.weights);
  const inputsFile = await readTensors('--inputs', args.inputs);
  const { input, options } = forwardInputs(args.inputs, inputsFile.tensors);
  await checkOutput(args.out); // before the model runs, not after
  const rnn = await createRnn({ config, weights, backend: args.backend, prefix: args.prefix });
  try {
    const result = await rnn.forward(input, options);
    const out: Record<string, Tensor> = { output: result.output, h_n: result.h_n };
    if (result.c_n) out.c_n = result.c_n;
    await writeOutput(args.out, writeSafetensors(out, { floatDtype: 'F32', metadata: { backend: rnn.backend, mode: config.mode } }));
  } finally {
    rnn.destroy();
  }
}

/** An error's message on one line: a list of problems (`...:\n  a\n  b`) becomes `...: a; b`. */
function oneLine(message: string): string {
  return message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('; ')
    .replace(/:; /g, ': ');
}

/** Runs the command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    const onnxCommand = ONNX_COMMANDS.find((c) => c === argv[0]);
    if (onnxCommand && !argv.includes('--help') && !argv.includes('-h')) return await runOnnxCommand(onnxCommand, argv);
    const trainCommand = TRAIN_COMMANDS.find((c) => c === argv[0]);
    if (trainCommand && !argv.includes('--help') && !argv.includes('-h')) return await runTrainCommand(trainCommand, argv);
    const parsed = parseArgs(argv);
    if (parsed.command === 'help') {
      console.log(USAGE);
      return 0;
    }
    await runForward(parsed.args);
    return 0;
  } catch (e) {
    if (!(e instanceof RnnError)) {
      // A bug in this library, not the user's mistake: the stack is what a report needs.
      console.error(`webgpu-rnn: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return 1;
    }
    console.error(`webgpu-rnn: ${oneLine(e.message)} [${e.code}]`);
    if (e.code !== 'USAGE') return 1;
    console.error(`\n${USAGE}`);
    return 2;
  }
}
