/**
 * The training commands of `webgpu-rnn` (exact contracts; external checks script them):
 *
 *   grad      --model model.json --weights init.safetensors --batch batch.safetensors --out grads.safetensors
 *             writes `loss` (scalar), `grad_norm` (the global L2 norm, as clip_grad_norm_ returns it) and
 *             `grad.<parameter name>` for every parameter, all F32
 *   train     --model model.json --weights init.safetensors --batch batch.safetensors --optimizer opt.json
 *             --steps N --out trained.safetensors
 *             takes N steps on the one batch; writes every parameter (state_dict names) and `losses` [N]
 *             (each step's loss before its update)
 *   gradcheck --model model.json --weights init.safetensors --batch batch.safetensors
 *             finite differences against the float64 reference backward; prints each tensor's relative
 *             error, exits 1 above 1e-6
 * all with [--backend webgpu|cpu] (gradcheck runs on the CPU reference). `train --text` and `sample`,
 * the character language model's commands, are in cli-text.ts. model.json is the trainable
 * model (src/train/config.ts); the batch file holds `input` or `tokens`, `target`, and optionally
 * `lengths`, `h0`, `c0`.
 */
import { type OptionSpecs, parseCommandLine } from '../cli-args.js';
import { checkOutput, readJson, readTensors, writeOutput } from '../cli-files.js';
import { RnnError } from '../errors.js';
import { type SafetensorsFile, isIntTensor, writeSafetensors } from '../safetensors.js';
import type { IntTensor, Tensor } from '../tensor.js';
import type { TrainBatch } from './batch.js';
import { TEXT_USAGE, runSample, runTrainText } from './cli-text.js';
import { resolveModelConfig } from './config.js';
import { type OptimizerConfigInput, resolveOptimizer } from './optim.js';
import { createTrainer, gradientCheck } from './trainer.js';

export const TRAIN_USAGE = `  webgpu-rnn grad --model model.json --weights init.safetensors --batch batch.safetensors --out grads.safetensors [--backend webgpu|cpu]
  webgpu-rnn train --model model.json --weights init.safetensors --batch batch.safetensors --optimizer opt.json --steps N --out trained.safetensors [--backend webgpu|cpu]
  webgpu-rnn gradcheck --model model.json --weights init.safetensors --batch batch.safetensors
${TEXT_USAGE}`;

export const TRAIN_COMMANDS = ['grad', 'train', 'gradcheck', 'sample'] as const;
type TrainCommand = (typeof TRAIN_COMMANDS)[number];

const SPECS: Record<Exclude<TrainCommand, 'sample'>, { options: OptionSpecs; required: string[] }> = {
  grad: {
    options: { model: { type: 'string' }, weights: { type: 'string' }, batch: { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' } },
    required: ['model', 'weights', 'batch', 'out'],
  },
  train: {
    options: {
      model: { type: 'string' },
      weights: { type: 'string' },
      batch: { type: 'string' },
      optimizer: { type: 'string' },
      steps: { type: 'string' },
      out: { type: 'string' },
      backend: { type: 'string' },
    },
    required: ['model', 'weights', 'batch', 'optimizer', 'steps', 'out'],
  },
  gradcheck: { options: { model: { type: 'string' }, weights: { type: 'string' }, batch: { type: 'string' } }, required: ['model', 'weights', 'batch'] },
};

const BATCH_NAMES = new Set(['input', 'tokens', 'target', 'lengths', 'h0', 'c0']);

function parse(command: Exclude<TrainCommand, 'sample'>, argv: readonly string[]): Record<string, string> {
  const { options, positionals } = parseCommandLine(argv, SPECS[command].options);
  if (positionals.length > 1) throw new RnnError('USAGE', `unexpected argument ${JSON.stringify(positionals[1])}`);
  const values: Record<string, string> = {};
  for (const o of options) values[o.name] = o.value!;
  for (const r of SPECS[command].required) if (values[r] === undefined) throw new RnnError('USAGE', `missing --${r}`);
  if (values.backend !== undefined && values.backend !== 'webgpu' && values.backend !== 'cpu')
    throw new RnnError('USAGE', `--backend must be webgpu or cpu, got ${JSON.stringify(values.backend)}`);
  return values;
}

/** The batch file's tensors as a training batch (floats as they are, integer tensors as ids). */
function batchOf(path: string, file: SafetensorsFile): TrainBatch {
  const t = file.tensors;
  const unexpected = Object.keys(t).filter((n) => !BATCH_NAMES.has(n));
  if (unexpected.length)
    throw new RnnError('TENSOR_INVALID', `--batch ${path}: unexpected tensor(s) ${unexpected.join(', ')} (expected input or tokens, target, lengths, h0, c0)`);
  const float = (name: string) => {
    if (t[name] && isIntTensor(t[name])) throw new RnnError('TENSOR_INVALID', `--batch ${path}: tensor ${name} must be floating point`);
    return t[name] as Tensor | undefined;
  };
  const int = (name: string) => {
    if (t[name] && !isIntTensor(t[name])) throw new RnnError('TENSOR_INVALID', `--batch ${path}: tensor ${name} must be I32 or I64`);
    return t[name] as IntTensor | undefined;
  };
  if (!t.target) throw new RnnError('TENSOR_INVALID', `--batch ${path}: missing tensor "target"`);
  return { input: float('input'), tokens: int('tokens'), target: t.target, lengths: int('lengths'), h0: float('h0'), c0: float('c0') };
}

export async function runTrainCommand(command: TrainCommand, argv: readonly string[]): Promise<number> {
  if (command === 'sample') return runSample(argv);
  if (command === 'train' && argv.some((a) => a === '--text' || a.startsWith('--text='))) return runTrainText(argv);
  const v = parse(command, argv);
  const model = resolveModelConfig(await readJson('--model', v.model, 'CONFIG_INVALID'));
  const weights = (await readTensors('--weights', v.weights)).tensors;
  const batch = batchOf(v.batch, await readTensors('--batch', v.batch));
  if (command === 'gradcheck') {
    const report = gradientCheck({ model, weights: weights as Record<string, Tensor>, batch });
    for (const t of report.tensors) console.log(`${t.name.padEnd(32)} ${t.relativeError.toExponential(2)}  (${t.elements} elements)`);
    console.log(`max relative error ${report.maxRelativeError.toExponential(2)} ${report.maxRelativeError <= 1e-6 ? '≤' : '>'} 1e-6`);
    return report.maxRelativeError <= 1e-6 ? 0 : 1;
  }
  let steps = 0;
  let optimizer: OptimizerConfigInput | undefined;
  if (command === 'train') {
    steps = Number(v.steps);
    if (!Number.isSafeInteger(steps) || steps < 1) throw new RnnError('USAGE', `--steps must be a positive integer, got ${JSON.stringify(v.steps)}`);
    optimizer = (await readJson('--optimizer', v.optimizer, 'OPTION_INVALID')) as OptimizerConfigInput;
    try {
      resolveOptimizer(optimizer); // checked now, before any work, and named by its option
    } catch (e) {
      throw e instanceof RnnError ? new RnnError(e.code, `--optimizer ${v.optimizer}: ${e.message}`, { cause: e }) : e;
    }
  }
  await checkOutput(v.out);
  const trainer = await createTrainer({
    model,
    weights: weights as Record<string, Tensor>,
    optimizer,
    backend: (v.backend as 'webgpu' | 'cpu' | undefined) ?? 'webgpu',
  });
  try {
    const out: Record<string, Tensor> = {};
    if (command === 'grad') {
      const g = await trainer.gradients(batch);
      out.loss = { shape: [], data: Float32Array.of(g.loss) };
      out.grad_norm = { shape: [], data: Float32Array.of(g.gradNorm) };
      for (const [name, t] of Object.entries(g.grads)) out[`grad.${name}`] = t;
    } else {
      const losses = new Float32Array(steps);
      for (let s = 0; s < steps; s++) losses[s] = (await trainer.trainStep(batch, { readLoss: true })).loss!;
      Object.assign(out, await trainer.parameters());
      out.losses = { shape: [steps], data: losses };
    }
    await writeOutput(v.out, writeSafetensors(out, { floatDtype: 'F32', metadata: { backend: trainer.backend, command } }));
    return 0;
  } finally {
    await trainer.destroy();
  }
}
