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
 *   decode    --model model.json --weights w.safetensors --batch source.safetensors --bos ID --eos ID
 *             --max-length L [--beam K] --out out.safetensors
 *             an encoder–decoder's greedy (K = 1) or beam-search decoding of `source` [S, B] (and
 *             `source_lengths` [B]); writes `tokens` [B, L] I32 (eos after each row's end), `lengths` [B]
 *             I32, `score` [B] F32 (summed log-probability), `attention` [B, L, S] F32 (zeros past a row's
 *             length and past its source length)
 * all with [--backend webgpu|cpu] (gradcheck runs on the CPU reference). `train --text` and `sample`,
 * the character language model's commands, are in cli-text.ts. model.json is the trainable
 * model: embedding → rnn → head (src/train/config.ts), whose batch file holds `input` or `tokens`,
 * `target`, and optionally `lengths`, `h0`, `c0`; or an encoder–decoder (src/train/seq2seq-config.ts),
 * whose batch holds `source`, `target_in`, `target` and optionally `source_lengths`.
 */
import { type OptionSpecs, parseCommandLine } from '../cli-args.js';
import { checkOutput, named, readJson, readTensors, writeOutput } from '../cli-files.js';
import { RnnError } from '../errors.js';
import { type SafetensorsFile, isIntTensor, writeSafetensors } from '../safetensors.js';
import type { IntTensor, Tensor } from '../tensor.js';
import type { TrainBatch } from './batch.js';
import { TEXT_USAGE, runSample, runTrainText } from './cli-text.js';
import { type TrainableConfig, type TrainableConfigInput, resolveTrainableConfig } from './config.js';
import { isSeq2Seq } from './seq2seq-config.js';
import { type OptimizerConfigInput, resolveOptimizer } from './optim.js';
import { createTrainer, gradientCheck } from './trainer.js';
import { type CheckpointHeader, readCheckpointHeader } from './checkpoint.js';

export const TRAIN_USAGE = `  webgpu-rnn grad --model model.json --weights init.safetensors --batch batch.safetensors --out grads.safetensors [--backend webgpu|cpu]
  webgpu-rnn train --model model.json --weights init.safetensors --batch batch.safetensors --optimizer opt.json --steps N --out trained.safetensors [--checkpoint ck.safetensors] [--backend webgpu|cpu]
  webgpu-rnn train --resume ck.safetensors --batch batch.safetensors --steps N --out trained.safetensors [--checkpoint ck2.safetensors] [--backend webgpu|cpu]
  webgpu-rnn gradcheck --model model.json --weights init.safetensors --batch batch.safetensors
  webgpu-rnn decode --model model.json --weights w.safetensors --batch source.safetensors --bos ID --eos ID --max-length L [--beam K] --out out.safetensors [--backend webgpu|cpu]
${TEXT_USAGE}`;

export const TRAIN_COMMANDS = ['grad', 'train', 'gradcheck', 'decode', 'sample'] as const;
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
      checkpoint: { type: 'string' },
      resume: { type: 'string' },
      backend: { type: 'string' },
    },
    // model, weights and optimizer too, unless --resume brings them (runTrainCommand checks).
    required: ['batch', 'steps', 'out'],
  },
  gradcheck: { options: { model: { type: 'string' }, weights: { type: 'string' }, batch: { type: 'string' } }, required: ['model', 'weights', 'batch'] },
  decode: {
    options: {
      model: { type: 'string' },
      weights: { type: 'string' },
      batch: { type: 'string' },
      bos: { type: 'string' },
      eos: { type: 'string' },
      'max-length': { type: 'string' },
      beam: { type: 'string' },
      out: { type: 'string' },
      backend: { type: 'string' },
    },
    required: ['model', 'weights', 'batch', 'bos', 'eos', 'max-length', 'out'],
  },
};

const BATCH_NAMES = ['input', 'tokens', 'target', 'lengths', 'h0', 'c0'];
const SEQ2SEQ_BATCH_NAMES = ['source', 'source_lengths', 'target_in', 'target'];

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
function batchOf(path: string, file: SafetensorsFile, model: TrainableConfig, command: string): TrainBatch {
  const t = file.tensors;
  const names = isSeq2Seq(model) ? (command === 'decode' ? ['source', 'source_lengths'] : SEQ2SEQ_BATCH_NAMES) : BATCH_NAMES;
  const unexpected = Object.keys(t).filter((n) => !names.includes(n));
  if (unexpected.length) throw new RnnError('TENSOR_INVALID', `--batch ${path}: unexpected tensor(s) ${unexpected.join(', ')} (expected ${names.join(', ')})`);
  const float = (name: string) => {
    if (t[name] && isIntTensor(t[name])) throw new RnnError('TENSOR_INVALID', `--batch ${path}: tensor ${name} must be floating point`);
    return t[name] as Tensor | undefined;
  };
  const int = (name: string) => {
    if (t[name] && !isIntTensor(t[name])) throw new RnnError('TENSOR_INVALID', `--batch ${path}: tensor ${name} must be I32 or I64`);
    return t[name] as IntTensor | undefined;
  };
  if (command === 'decode') {
    if (!t.source) throw new RnnError('TENSOR_INVALID', `--batch ${path}: missing tensor "source"`);
    return { source: int('source'), source_lengths: int('source_lengths'), target: { shape: [0], data: new Int32Array(0) } }; // (no target: decode reads the source)
  }
  if (!t.target) throw new RnnError('TENSOR_INVALID', `--batch ${path}: missing tensor "target"`);
  if (isSeq2Seq(model)) return { source: int('source'), source_lengths: int('source_lengths'), target_in: int('target_in'), target: t.target };
  return { input: float('input'), tokens: int('tokens'), target: t.target, lengths: int('lengths'), h0: float('h0'), c0: float('c0') };
}

/** A checkpoint's header, its errors named by the option and path. */
function checkpointHeader(path: string, file: SafetensorsFile): CheckpointHeader {
  return named('--resume', path, () => readCheckpointHeader(file));
}

/** A non-negative integer option, at least `min`. */
function integerOption(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min)
    throw new RnnError('USAGE', `${flag} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  return n;
}

export async function runTrainCommand(command: TrainCommand, argv: readonly string[]): Promise<number> {
  if (command === 'sample') return runSample(argv);
  if (command === 'train' && argv.some((a) => a === '--text' || a.startsWith('--text='))) return runTrainText(argv);
  const v = parse(command, argv);
  // train --resume: the checkpoint holds the model, the weights and the optimizer.
  const resumed = v.resume === undefined ? undefined : await readTensors('--resume', v.resume);
  const header = resumed && checkpointHeader(v.resume, resumed);
  for (const key of ['model', 'weights', 'optimizer']) {
    if (header && v[key] !== undefined) throw new RnnError('USAGE', `--${key}: not with --resume (the checkpoint holds the ${key})`);
    if (!header && command === 'train' && v[key] === undefined) throw new RnnError('USAGE', `missing --${key} (or --resume a checkpoint)`);
  }
  const model = resolveTrainableConfig(header ? (header.model as TrainableConfigInput) : await readJson('--model', v.model, 'CONFIG_INVALID'));
  if (command === 'decode' && !isSeq2Seq(model))
    throw new RnnError('CONFIG_INVALID', `--model ${v.model}: decode takes an encoder–decoder (source_embedding, encoder, decoder, …)`);
  const weights = header ? undefined : (await readTensors('--weights', v.weights)).tensors;
  const batch = batchOf(v.batch, await readTensors('--batch', v.batch), model, command);
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
    if (!header) {
      optimizer = (await readJson('--optimizer', v.optimizer, 'OPTION_INVALID')) as OptimizerConfigInput;
      try {
        resolveOptimizer(optimizer); // checked now, before any work, and named by its option
      } catch (e) {
        throw e instanceof RnnError ? new RnnError(e.code, `--optimizer ${v.optimizer}: ${e.message}`, { cause: e }) : e;
      }
    }
  } else {
    for (const key of ['checkpoint', 'resume']) if (v[key] !== undefined) throw new RnnError('USAGE', `--${key}: only train writes or resumes checkpoints`);
  }
  const decode =
    command === 'decode'
      ? {
          bos: integerOption('--bos', v.bos, 0),
          eos: integerOption('--eos', v.eos, 0),
          maxLength: integerOption('--max-length', v['max-length'], 1),
          beam: v.beam === undefined ? 1 : integerOption('--beam', v.beam, 1),
        }
      : undefined;
  await checkOutput(v.out);
  if (v.checkpoint !== undefined) await checkOutput(v.checkpoint, '--checkpoint');
  const backend = (v.backend as 'webgpu' | 'cpu' | undefined) ?? 'webgpu';
  const trainer = await named('--resume', v.resume, () =>
    header
      ? createTrainer({ resume: header.file, backend })
      : createTrainer({ model: model as never, weights: weights as Record<string, Tensor>, optimizer, backend }),
  );
  try {
    const out: Record<string, Tensor | IntTensor> = {};
    if (decode) {
      const d = await trainer.decode(batch.source as IntTensor, { ...decode, sourceLengths: batch.source_lengths });
      out.tokens = d.tokens;
      out.lengths = { shape: [d.lengths.length], data: d.lengths };
      out.score = { shape: [d.score.length], data: Float32Array.from(d.score) };
      out.attention = { shape: d.attention.shape, data: Float32Array.from(d.attention.data) };
    } else if (command === 'grad') {
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
    if (v.checkpoint !== undefined) await writeOutput(v.checkpoint, await trainer.checkpoint(), '--checkpoint');
    return 0;
  } finally {
    await trainer.destroy();
  }
}
