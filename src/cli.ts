/**
 * The `webgpu-rnn` command (Node):
 *
 *   webgpu-rnn forward --config config.json --weights model.safetensors --inputs io.safetensors
 *                      --out out.safetensors [--backend webgpu|cpu]
 *
 * config.json holds PyTorch's constructor arguments; the weights file a state_dict; the inputs file
 * `input` and optionally `h0`, `c0`, `lengths` (I32 or I64). Writes `output`, `h_n` (and `c_n` for
 * LSTM) as F32.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolveConfig } from './config.js';
import { RnnError } from './errors.js';
import type { ForwardOptions } from './inputs.js';
import { type Backend, createRnn } from './rnn.js';
import { isIntTensor, lengthsToInt32, readSafetensors, writeSafetensors } from './safetensors.js';
import type { IntTensor, Tensor } from './tensor.js';

export const USAGE = `Usage:
  webgpu-rnn forward --config config.json --weights model.safetensors --inputs io.safetensors --out out.safetensors [--backend webgpu|cpu]

  config.json   PyTorch constructor arguments, e.g. {"mode": "LSTM", "input_size": 16, "hidden_size": 32,
                "num_layers": 2, "bias": true, "batch_first": false, "bidirectional": true, "proj_size": 0}
  --weights     the module's state_dict as safetensors (weight_ih_l0, weight_hh_l0, bias_ih_l0, ...)
  --inputs      safetensors with "input" and optionally "h0", "c0", "lengths" (I32 or I64)
  --out         written with "output", "h_n" and, for LSTM, "c_n" (F32)
  --backend     webgpu (default) or cpu (float64 reference)`;

/** A user error: printed without a stack trace, exit code 2. */
export class UsageError extends Error {}

interface ForwardArgs {
  config: string;
  weights: string;
  inputs: string;
  out: string;
  backend: Backend;
}

const INPUT_NAMES = new Set(['input', 'h0', 'c0', 'lengths']);

export function parseArgs(argv: string[]): { command: 'help' } | { command: 'forward'; args: ForwardArgs } {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') return { command: 'help' };
  const [command, ...rest] = argv;
  if (command !== 'forward') throw new UsageError(`unknown command ${JSON.stringify(command)} (expected "forward")`);
  const values: Record<string, string> = {};
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const known = ['--config', '--weights', '--inputs', '--out', '--backend'];
    const [name, inline] = flag.includes('=') ? [flag.slice(0, flag.indexOf('=')), flag.slice(flag.indexOf('=') + 1)] : [flag, undefined];
    if (!known.includes(name)) throw new UsageError(`unknown option ${JSON.stringify(flag)}`);
    const value = inline ?? rest[++i];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
    values[name.slice(2)] = value;
  }
  for (const required of ['config', 'weights', 'inputs', 'out']) {
    if (!values[required]) throw new UsageError(`missing --${required}`);
  }
  const backend = values.backend ?? 'webgpu';
  if (backend !== 'webgpu' && backend !== 'cpu') throw new UsageError(`--backend must be webgpu or cpu, got ${JSON.stringify(backend)}`);
  return { command: 'forward', args: { config: values.config, weights: values.weights, inputs: values.inputs, out: values.out, backend } };
}

async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Splits an inputs file into the forward call's tensors, rejecting anything unexpected. */
function forwardInputs(path: string, tensors: Record<string, Tensor | IntTensor>): { input: Tensor; options: ForwardOptions } {
  const unexpected = Object.keys(tensors).filter((n) => !INPUT_NAMES.has(n));
  if (unexpected.length) throw new UsageError(`${path}: unexpected tensor(s) ${unexpected.join(', ')} (expected input, h0, c0, lengths)`);
  const float = (name: string): Tensor | undefined => {
    const t = tensors[name];
    if (t && isIntTensor(t)) throw new UsageError(`${path}: tensor ${name} must be floating point`);
    return t as Tensor | undefined;
  };
  const input = float('input');
  if (!input) throw new UsageError(`${path}: missing tensor "input"`);
  const lengths = tensors.lengths;
  if (lengths && !isIntTensor(lengths)) throw new UsageError(`${path}: tensor lengths must be I32 or I64`);
  return { input, options: { h0: float('h0'), c0: float('c0'), lengths: lengths ? lengthsToInt32(lengths) : undefined } };
}

export async function runForward(args: ForwardArgs): Promise<void> {
  const config = resolveConfig((await readJson(args.config)) as Record<string, unknown>);
  const weights = readSafetensors(new Uint8Array(await readFile(args.weights)));
  const { input, options } = forwardInputs(args.inputs, readSafetensors(new Uint8Array(await readFile(args.inputs))).tensors);
  const rnn = await createRnn({ config, weights, backend: args.backend });
  try {
    const result = await rnn.forward(input, options);
    const out: Record<string, Tensor> = { output: result.output, h_n: result.h_n };
    if (result.c_n) out.c_n = result.c_n;
    await writeFile(args.out, writeSafetensors(out, { floatDtype: 'F32', metadata: { backend: rnn.backend, mode: config.mode } }));
  } finally {
    rnn.destroy();
  }
}

/** Runs the command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    const parsed = parseArgs(argv);
    if (parsed.command === 'help') {
      console.log(USAGE);
      return 0;
    }
    await runForward(parsed.args);
    return 0;
  } catch (e) {
    const err = e as Error;
    // Input mistakes (bad config, shapes, missing tensors) are the user's to fix: message only.
    const userFacing = err instanceof UsageError || err instanceof RnnError || err instanceof RangeError || err instanceof TypeError || /^safetensors: /.test(err.message);
    console.error(`webgpu-rnn: ${userFacing ? err.message : (err.stack ?? err.message)}`);
    if (err instanceof UsageError) console.error(`\n${USAGE}`);
    return err instanceof UsageError ? 2 : 1;
  }
}
