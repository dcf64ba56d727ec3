/**
 * The character language model commands of `webgpu-rnn`:
 *
 *   train --text corpus.txt --out model.safetensors [--model model.json | --mode LSTM --hidden 128
 *         --layers 2 --embedding 32 --dropout 0] [--seq-len 64 --batch-size 16] [--epochs 1 | --steps N]
 *         [--optimizer opt.json | --lr 0.002] [--validation 0.1 --validate-every N --patience P]
 *         [--backend webgpu|cpu] [--seed S] [--checkpoint ck.safetensors [--checkpoint-every N]]
 *         [--resume ck.safetensors]
 *   sample --checkpoint model.safetensors --prompt "今天天气很" [--length 100 --temperature 0.8
 *         --top-k 0 --seed 0 --backend webgpu|cpu]
 *
 * The text is read as UTF-8 and modelled one code point at a time, so Chinese works as English does.
 * The last `--validation` fraction of the text is held out; its loss is measured every
 * `--validate-every` steps (default: once per epoch), and every time it improves the weights are
 * written to `--out` — a checkpoint of the best model so far, which `--patience` can stop early on.
 * Without validation the checkpoint is written at the end. The checkpoint is a state_dict PyTorch
 * loads as it is (`embedding.weight`, `rnn.weight_ih_l0`, …, `head.weight`), with the model JSON and
 * the vocabulary in its metadata so that `sample` needs nothing else.
 *
 * `--checkpoint` keeps the whole run (trainer.checkpoint(): optimizer state, steps, carried state, with
 * the vocabulary and the run's shape in its metadata) every `--checkpoint-every` steps (default: a
 * tenth of the run), at each best validation loss and at the end; Ctrl-C (SIGINT) stops at the next
 * step, writes it (to `--checkpoint`, or beside `--out`) and exits 130. `--resume` continues such a run
 * on the same text where it stopped — the same steps, batches and numbers as a run never stopped —
 * up to its `--steps` / `--epochs` (or new ones given). Every file is written atomically (cli-files.ts).
 *
 * Progress goes to stderr: a bar redrawn in place on a terminal, a line per tenth of the run
 * otherwise. The summary (losses against the unigram baseline) goes to stdout. A loss that is not
 * finite (a learning rate too high) ends the run with one line on stderr (NON_FINITE, exit code 1),
 * the checkpoint holding the last finite parameters (or the best validated ones).
 */
import { existsSync } from 'node:fs';
import { type OptionSpecs, parseCommandLine } from '../cli-args.js';
import { checkOutput, named, readInputFile, readJson, readTensors, writeOutput } from '../cli-files.js';
import { RnnError } from '../errors.js';
import { writeSafetensors } from '../safetensors.js';
import { type ModelConfig, type ModelConfigInput, resolveModelConfig } from './config.js';
import type { FitProgress } from './fit.js';
import { type OptimizerConfigInput, resolveOptimizer } from './optim.js';
import { type Vocabulary, decode, encode, textBatches, unigramLoss, vocabularyOf } from './text.js';
import { type Trainer, createTrainer } from './trainer.js';
import { type FitState, readCheckpointHeader } from './checkpoint.js';
import { basename } from 'node:path';

export const TEXT_USAGE = `  webgpu-rnn train --text corpus.txt --out model.safetensors [--model model.json | --mode LSTM --hidden 128 --layers 2 --embedding 32 --dropout 0 --recurrent-dropout 0]
                   [--seq-len 64] [--batch-size 16] [--epochs 1 | --steps N] [--optimizer opt.json | --lr 0.002]
                   [--validation 0.1] [--validate-every N] [--patience P] [--backend webgpu|cpu] [--seed S]
                   [--checkpoint ck.safetensors [--checkpoint-every N]] [--resume ck.safetensors]
  webgpu-rnn sample --checkpoint model.safetensors --prompt TEXT [--length 100] [--temperature 0.8] [--top-k 0] [--seed 0] [--backend webgpu|cpu]`;

const TEXT_OPTIONS: OptionSpecs = Object.fromEntries(
  [
    'text',
    'out',
    'model',
    'mode',
    'hidden',
    'layers',
    'embedding',
    'dropout',
    'recurrent-dropout',
    'seq-len',
    'batch-size',
    'epochs',
    'steps',
    'optimizer',
    'lr',
    'validation',
    'validate-every',
    'patience',
    'backend',
    'seed',
    'checkpoint',
    'checkpoint-every',
    'resume',
  ].map((n) => [n, { type: 'string' as const }]),
);

const SAMPLE_OPTIONS: OptionSpecs = Object.fromEntries(
  ['checkpoint', 'prompt', 'length', 'temperature', 'top-k', 'seed', 'backend'].map((n) => [n, { type: 'string' as const }]),
);

function values(argv: readonly string[], specs: OptionSpecs, required: string[]): Record<string, string> {
  const { options, positionals } = parseCommandLine(argv, specs);
  if (positionals.length > 1) throw new RnnError('USAGE', `unexpected argument ${JSON.stringify(positionals[1])}`);
  const v: Record<string, string> = {};
  for (const o of options) v[o.name] = o.value!;
  for (const r of required) if (v[r] === undefined) throw new RnnError('USAGE', `missing --${r}`);
  if (v.backend !== undefined && v.backend !== 'webgpu' && v.backend !== 'cpu')
    throw new RnnError('USAGE', `--backend must be webgpu or cpu, got ${JSON.stringify(v.backend)}`);
  return v;
}

/** A numeric option: `kind` 'int' (≥ min) or 'real' (in [min, max]). */
function numberOption(v: Record<string, string>, name: string, fallback: number, kind: 'int' | 'real', min: number, max = Number.POSITIVE_INFINITY): number {
  if (v[name] === undefined) return fallback;
  const n = Number(v[name]);
  const ok = kind === 'int' ? Number.isSafeInteger(n) && n >= min : Number.isFinite(n) && n >= min && n <= max;
  if (!ok)
    throw new RnnError('USAGE', `--${name} must be ${kind === 'int' ? `an integer ≥ ${min}` : `a number in [${min}, ${max}]`}, got ${JSON.stringify(v[name])}`);
  return n;
}

/** The model: from --model (whose vocabulary sizes must be the text's) or from the size options. */
async function textModel(v: Record<string, string>, vocab: number): Promise<ModelConfig> {
  if (v.model !== undefined) {
    for (const o of ['mode', 'hidden', 'layers', 'embedding', 'dropout', 'recurrent-dropout'])
      if (v[o] !== undefined) throw new RnnError('USAGE', `--${o} and --model exclude each other (the model file says it)`);
    const model = resolveModelConfig(await readJson('--model', v.model, 'CONFIG_INVALID'));
    const n = model.embedding?.num_embeddings;
    if (n !== vocab || model.head?.out_features !== vocab || model.head.on !== 'output' || model.loss !== 'cross_entropy') {
      throw new RnnError(
        'CONFIG_INVALID',
        `--model ${v.model}: a character model of this text needs an embedding of ${vocab} rows, a head on every step with ${vocab} outputs and cross_entropy (the text has ${vocab} distinct characters)`,
      );
    }
    return model;
  }
  const mode = v.mode ?? 'LSTM';
  const E = numberOption(v, 'embedding', 32, 'int', 1);
  const input: ModelConfigInput = {
    embedding: { num_embeddings: vocab, embedding_dim: E },
    rnn: {
      mode: mode as 'LSTM',
      input_size: E,
      hidden_size: numberOption(v, 'hidden', 128, 'int', 1),
      num_layers: numberOption(v, 'layers', 2, 'int', 1),
      dropout: numberOption(v, 'dropout', 0, 'real', 0, 1),
      recurrent_dropout: numberOption(v, 'recurrent-dropout', 0, 'real', 0, 1),
    },
    head: { out_features: vocab, on: 'output' },
    loss: 'cross_entropy',
  };
  try {
    return resolveModelConfig(input);
  } catch (e) {
    throw e instanceof RnnError
      ? new RnnError('USAGE', e.message.replace('rnn.mode', '--mode').replace(/^.*recurrent_dropout:/, '--recurrent-dropout:'), { cause: e })
      : e;
  }
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** Progress on stderr: redrawn in place on a terminal, otherwise a line every tenth of the run. */
function progressPrinter(total: number): { show: (p: FitProgress) => void; done: () => void } {
  // The command's launcher (bin/webgpu-rnn.js) runs this in a child whose stderr it filters: it says
  // when its own stderr is a terminal.
  const tty = process.stderr.isTTY === true || process.env.WEBGPU_RNN_STDERR_TTY === '1';
  let lastLine = 0;
  return {
    show(p) {
      const width = 24;
      const filled = Math.round((p.step / total) * width);
      const line =
        `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] step ${p.step}/${total} loss ${p.loss?.toFixed(3) ?? '?'}` +
        `${p.validationLoss === undefined ? '' : ` val ${p.validationLoss.toFixed(3)}`} | ${Math.round(p.tokensPerSecond)} chars/s | ETA ${duration(p.etaSeconds)}`;
      if (tty) process.stderr.write(`\r${line}\x1b[K`);
      else if (p.step === total || p.step - lastLine >= total / 10 || p.validationLoss !== undefined) {
        process.stderr.write(`${line}\n`);
        lastLine = p.step;
      }
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}

async function checkpoint(trainer: Trainer, vocab: Vocabulary, extra: Record<string, string>): Promise<Uint8Array> {
  const params = await trainer.parameters();
  return writeSafetensors(params, {
    floatDtype: 'F32',
    metadata: { format: 'pt', model: JSON.stringify(trainer.model), vocabulary: JSON.stringify(vocab.chars), steps: String(trainer.steps), ...extra },
  });
}

/** What a text run's checkpoint keeps besides the trainer's: the run's shape, to continue it the same way. */
const RUN_KEYS = ['seq-len', 'batch-size', 'validation', 'validate-every', 'epochs', 'steps', 'patience'] as const;

export async function runTrainText(argv: readonly string[]): Promise<number> {
  const given = values(argv, TEXT_OPTIONS, ['text', 'out']);
  // --resume: the model, optimizer and seed come from the checkpoint; the run's shape too, unless given again.
  const resumed = given.resume === undefined ? undefined : await readTensors('--resume', given.resume);
  const header = resumed ? named('--resume', given.resume, () => readCheckpointHeader(resumed)) : undefined;
  if (header) {
    for (const o of ['model', 'mode', 'hidden', 'layers', 'embedding', 'dropout', 'recurrent-dropout', 'optimizer', 'lr', 'seed'])
      if (given[o] !== undefined) throw new RnnError('USAGE', `--${o}: not with --resume (the checkpoint holds the model, the optimizer and the seed)`);
    if (header.metadata.vocabulary === undefined)
      throw new RnnError('WEIGHTS_INVALID', `--resume ${given.resume}: not a checkpoint of a text run (no vocabulary)`);
  }
  const run: Record<string, string> = header ? JSON.parse(header.metadata.text_run ?? '{}') : {};
  const v: Record<string, string> = { ...given };
  if (header && given.steps === undefined && given.epochs === undefined) for (const k of ['epochs', 'steps']) if (run[k] !== undefined) v[k] = run[k];
  for (const k of ['seq-len', 'batch-size', 'validation', 'validate-every', 'patience'] as const) {
    if (!header || run[k] === undefined) continue;
    if (given[k] !== undefined && given[k] !== run[k]) throw new RnnError('USAGE', `--${k} ${given[k]}: the resumed run used ${run[k]}; leave it out`);
    v[k] = run[k];
  }
  const T = numberOption(v, 'seq-len', 64, 'int', 1);
  const B = numberOption(v, 'batch-size', 16, 'int', 1);
  const heldOut = numberOption(v, 'validation', 0.1, 'real', 0, 0.5);
  const patience = v.patience === undefined ? undefined : numberOption(v, 'patience', 1, 'int', 1);
  const seed = numberOption(v, 'seed', 0, 'int', 0);
  const checkpointEvery = v['checkpoint-every'] === undefined ? undefined : numberOption(v, 'checkpoint-every', 1, 'int', 1);
  if (checkpointEvery !== undefined && v.checkpoint === undefined) throw new RnnError('USAGE', '--checkpoint-every needs --checkpoint (where to write them)');
  if (v.epochs !== undefined && v.steps !== undefined) throw new RnnError('USAGE', '--epochs and --steps exclude each other');
  if (v.optimizer !== undefined && v.lr !== undefined) throw new RnnError('USAGE', '--lr and --optimizer exclude each other (put lr in the optimizer file)');
  const text = (await readInputFile('--text', v.text, 'a text file')).toString('utf8');
  const vocab = vocabularyOf(text);
  if (vocab.chars.length < 2)
    throw new RnnError('TENSOR_INVALID', `--text ${v.text}: a language model needs at least 2 distinct characters, the text has ${vocab.chars.length}`);
  if (header && header.metadata.vocabulary !== JSON.stringify(vocab.chars))
    throw new RnnError('USAGE', `--resume ${given.resume}: its vocabulary is not --text ${v.text}'s (another text?); a run continues on its own text`);
  const ids = encode(vocab, text);
  if (header && run.characters !== undefined && run.characters !== String(ids.length))
    throw new RnnError(
      'USAGE',
      `--resume ${given.resume}: its text had ${run.characters} characters, --text ${v.text} has ${ids.length}; a run continues on its own text`,
    );
  const split = heldOut > 0 ? Math.floor(ids.length * (1 - heldOut)) : ids.length;
  const trainIds = ids.subarray(0, split);
  const batches = textBatches(trainIds, T, B);
  // The held-out tail is shorter: as many streams as fit one window each, up to B.
  const validIds = ids.subarray(split);
  const validation = heldOut > 0 ? textBatches(validIds, T, Math.max(1, Math.min(B, Math.floor((validIds.length - 1) / T)))) : [];
  const model = header ? resolveModelConfig(header.model as ModelConfigInput) : await textModel(v, vocab.chars.length);
  let optimizer: OptimizerConfigInput = { name: 'adam', lr: numberOption(v, 'lr', 0.002, 'real', 0, 10), clip_grad_norm: 5 };
  if (v.optimizer !== undefined) {
    optimizer = (await readJson('--optimizer', v.optimizer, 'OPTION_INVALID')) as OptimizerConfigInput;
    try {
      resolveOptimizer(optimizer);
    } catch (e) {
      throw e instanceof RnnError ? new RnnError(e.code, `--optimizer ${v.optimizer}: ${e.message}`, { cause: e }) : e;
    }
  }
  const epochs = numberOption(v, 'epochs', 1, 'int', 1);
  const maxSteps = v.steps === undefined ? undefined : numberOption(v, 'steps', 1, 'int', 1);
  const total = maxSteps ?? epochs * batches.length;
  const validateEvery = validation.length ? numberOption(v, 'validate-every', Math.min(total, batches.length), 'int', 1) : undefined;
  await checkOutput(v.out);
  // Where Ctrl-C leaves the run: --checkpoint, or beside --out.
  const checkpointPath = v.checkpoint ?? v.out.replace(/(\.safetensors)?$/, '.checkpoint.safetensors');
  await checkOutput(checkpointPath, '--checkpoint');
  const backend = (v.backend as 'webgpu' | 'cpu' | undefined) ?? 'webgpu';
  const trainer = (
    header
      ? await named('--resume', given.resume, () => createTrainer({ resume: header.file, backend }))
      : await createTrainer({ model, optimizer, backend, seed, init: model.rnn.mode === 'LSTM' ? { forgetBias: 1, seed } : { seed } })
  ) as Trainer;
  if (trainer.steps >= total)
    throw new RnnError('USAGE', `--resume ${given.resume}: the run is at step ${trainer.steps} of ${total}; give more --steps or --epochs to go on`);
  const runShape = JSON.stringify({
    ...Object.fromEntries(RUN_KEYS.flatMap((k) => (v[k] === undefined ? [] : [[k, v[k]]]))),
    characters: String(ids.length),
  });
  const metadata = { vocabulary: JSON.stringify(vocab.chars), text_run: runShape, text: basename(v.text) };
  // After fit, the full checkpoint carries its early-stopping state, so a resumed run's patience counts on.
  let fitState: FitState | undefined;
  const fullCheckpoint = () => trainer.checkpoint({ metadata, ...(fitState ? { fit: fitState } : {}) });
  const interrupted = new AbortController();
  const onInterrupt = () => interrupted.abort();
  process.on('SIGINT', onInterrupt);
  const progress = progressPrinter(total);
  // --out holds the best model so far: a resumed run replaces the one it wrote only with a better one.
  let best = trainer.resumedFit?.best ?? Number.POSITIVE_INFINITY;
  let written = Number.isFinite(best) && existsSync(v.out);
  try {
    const report = await trainer.fit(batches, {
      epochs: maxSteps === undefined ? epochs : Math.ceil(maxSteps / batches.length),
      maxSteps,
      startStep: trainer.steps,
      carryState: true,
      readEvery: Math.max(1, Math.floor(total / 200)),
      validation,
      validateEvery,
      earlyStopping: patience === undefined ? undefined : { patience },
      signal: interrupted.signal,
      checkpointEvery: v.checkpoint === undefined ? undefined : (checkpointEvery ?? Math.max(1, Math.floor(total / 10))),
      checkpointMetadata: metadata,
      onCheckpoint: v.checkpoint === undefined ? undefined : (bytes) => writeOutput(v.checkpoint, bytes, '--checkpoint'),
      onProgress: async (p) => {
        progress.show(p);
        if (p.validationLoss !== undefined && p.validationLoss < best) {
          best = p.validationLoss;
          await writeOutput(v.out, await checkpoint(trainer, vocab, { validation_loss: String(best) }));
          written = true;
        }
      },
    });
    progress.done();
    fitState = report.fitState;
    if (!written) await writeOutput(v.out, await checkpoint(trainer, vocab, {}));
    if (v.checkpoint !== undefined || interrupted.signal.aborted) await writeOutput(checkpointPath, await fullCheckpoint(), '--checkpoint');
    if (interrupted.signal.aborted) {
      console.error(`interrupted at step ${report.steps} of ${total}: wrote ${checkpointPath} (go on with --resume ${checkpointPath})`);
      return 130;
    }
    if (report.nonFinite) {
      throw new RnnError(
        'NON_FINITE',
        `${report.nonFinite.message.replace(/^fit: /, '')}; ${v.out} holds the ${written ? 'best validated' : 'last finite'} parameters (step ${written ? 'of the best validation loss' : report.steps})`,
      );
    }
    const last = report.losses.at(-1)?.[1];
    const baseline = unigramLoss(trainIds, vocab.chars.length);
    console.log(
      `${report.steps} steps (${report.stopped === 'early' ? 'stopped early' : report.stopped}) in ${duration(report.seconds)}: ` +
        `loss ${last?.toFixed(4)}${Number.isFinite(best) ? `, best validation ${best.toFixed(4)}` : ''} nats/char (unigram baseline ${baseline.toFixed(4)}); ` +
        `${vocab.chars.length} characters; wrote ${v.out}`,
    );
    return 0;
  } finally {
    process.off('SIGINT', onInterrupt);
    await trainer.destroy();
  }
}

export async function runSample(argv: readonly string[]): Promise<number> {
  const v = values(argv, SAMPLE_OPTIONS, ['checkpoint', 'prompt']);
  const file = await readTensors('--checkpoint', v.checkpoint);
  const bad = (what: string): never => {
    throw new RnnError('WEIGHTS_INVALID', `--checkpoint ${v.checkpoint}: ${what} (write one with webgpu-rnn train --text)`);
  };
  if (file.metadata.model === undefined || file.metadata.vocabulary === undefined) bad('no model or vocabulary in its metadata');
  let model: ModelConfig;
  let chars: string[];
  try {
    model = resolveModelConfig(JSON.parse(file.metadata.model));
    chars = JSON.parse(file.metadata.vocabulary);
    if (!Array.isArray(chars) || chars.some((c) => typeof c !== 'string')) throw new Error('vocabulary: expected an array of characters');
  } catch (e) {
    return bad(`unreadable metadata (${(e as Error).message})`);
  }
  const vocab: Vocabulary = { chars, ids: new Map(chars.map((c, i) => [c, i])) };
  const missing = [...new Set(Array.from(v.prompt))].filter((c) => !vocab.ids.has(c));
  if (missing.length)
    throw new RnnError(
      'TENSOR_INVALID',
      `--prompt: ${missing.map((c) => JSON.stringify(c)).join(', ')} not in the model's vocabulary of ${chars.length} characters`,
    );
  const trainer = await createTrainer({ model, weights: file, backend: (v.backend as 'webgpu' | 'cpu' | undefined) ?? 'webgpu' });
  try {
    const tokens = await trainer.sample(encode(vocab, v.prompt), {
      maxTokens: numberOption(v, 'length', 100, 'int', 1),
      temperature: numberOption(v, 'temperature', 0.8, 'real', 0, 100),
      topK: numberOption(v, 'top-k', 0, 'int', 0),
      seed: numberOption(v, 'seed', 0, 'int', 0),
    });
    console.log(v.prompt + decode(vocab, tokens));
    return 0;
  } finally {
    await trainer.destroy();
  }
}
