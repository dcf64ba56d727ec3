/**
 * A training checkpoint: one safetensors file with everything a run needs to continue exactly where it
 * stopped (trainer.checkpoint(), createTrainer({ resume })):
 *   tensors   the parameters under their state_dict names (so PyTorch loads them with
 *             load_state_dict(strict=False)); each optimizer state tensor as
 *             `optimizer.<parameter>.<torch.optim's state name>` (exp_avg, exp_avg_sq, max_exp_avg_sq,
 *             momentum_buffer, square_avg, grad_avg — those the optimizer keeps with its arguments);
 *             the carried states as `carry.<train|eval>.h` (L·D, B, H_out) and `.c` (LSTM);
 *   metadata  `webgpu_rnn_checkpoint` (the format's version), the steps taken, the seed, the model and
 *             the optimizer (JSON), the backend that wrote it, and whatever the caller adds (the CLI's
 *             vocabulary and data position for a text run).
 *   fit       with a checkpoint fit takes while validating: its early-stopping state (metadata `fit`:
 *             the best validation loss, its step, the validations since) and, when restoreBest is on
 *             and the best step is not this one, the best step's parameters as `fit.best.<name>`.
 * The schedule's position and the dropout masks follow from the steps and the seed (optim.ts,
 * rng.ts), so nothing else is kept. Floats are written as the backend holds them: F64 from the CPU
 * backend, F32 from WebGPU — so the same backend resumes bit for bit.
 */
import type { Backend } from '../api.js';
import { RnnError, describeValue } from '../errors.js';
import { readSafetensors, writeSafetensors } from '../safetensors.js';
import type { SafetensorsFile } from '../safetensors.js';
import type { Tensor } from '../tensor.js';
import type { TrainableConfig } from './config.js';
import type { CarryKind, EngineSnapshot } from './engine.js';
import { modelParameterSpecs, trainModel } from './model.js';
import { type OptimizerConfig, type PlateauState, optimizerDescription } from './optim.js';
import { OPTIMIZERS } from './optimizers/index.js';

/** The version written in `webgpu_rnn_checkpoint`. */
export const CHECKPOINT_VERSION = '1';

const SLOTS = ['a', 'b', 'c'] as const;

/**
 * fit's early-stopping state at a checkpoint: what a resumed fit needs to stop, and restore, where the
 * uninterrupted run would have.
 */
export interface FitState {
  /** The best validation loss so far (Infinity before the first). */
  best: number;
  /** Its step (0 before the first). */
  bestStep: number;
  /** Validations since it without an improvement (earlyStopping's count toward patience). */
  stale: number;
  /** restoreBest: the best step's parameters (left out of the file when the best step is the checkpoint's own). */
  bestParams?: Record<string, Tensor>;
}
const CARRIES: readonly CarryKind[] = ['train', 'eval'];

/** The optimizer's state tensors by slot: torch.optim's name for each slot it keeps. */
function stateNames(optimizer: OptimizerConfig): Array<['a' | 'b' | 'c', string]> {
  const names = OPTIMIZERS[optimizer.name].stateNames(optimizer);
  return SLOTS.flatMap((slot) => (names[slot] ? [[slot, names[slot]] as ['a' | 'b' | 'c', string]] : []));
}

export function writeCheckpoint(
  o: {
    model: TrainableConfig;
    optimizer: OptimizerConfig;
    seed: number;
    backend: Backend;
    extra?: Record<string, string>;
    plateau?: PlateauState;
    fit?: FitState;
  },
  snapshot: EngineSnapshot,
): Uint8Array {
  const tensors: Record<string, Tensor> = {};
  for (const spec of modelParameterSpecs(o.model)) tensors[spec.name] = { shape: spec.shape, data: snapshot.params[spec.name] };
  const fitBest = o.fit?.bestParams && o.fit.bestStep !== snapshot.steps ? o.fit.bestParams : undefined;
  for (const spec of fitBest ? modelParameterSpecs(o.model) : []) tensors[`fit.best.${spec.name}`] = { shape: spec.shape, data: fitBest![spec.name].data };
  for (const [slot, state] of stateNames(o.optimizer)) {
    for (const spec of modelParameterSpecs(o.model)) tensors[`optimizer.${spec.name}.${state}`] = { shape: spec.shape, data: snapshot.state[slot][spec.name] };
  }
  const rnn = trainModel(o.model).recurrent.config;
  const rows = rnn.num_layers * (rnn.bidirectional ? 2 : 1);
  for (const kind of CARRIES) {
    const held = snapshot.carries[kind];
    if (!held) continue;
    tensors[`carry.${kind}.h`] = { shape: [rows, held.B, rnn.proj_size || rnn.hidden_size], data: held.h };
    if (held.c) tensors[`carry.${kind}.c`] = { shape: [rows, held.B, rnn.hidden_size], data: held.c };
  }
  for (const k of Object.keys(o.extra ?? {})) {
    if (k in RESERVED) throw new RnnError('OPTION_INVALID', `checkpoint options.metadata: "${k}" is a key of the checkpoint's own`);
  }
  return writeSafetensors(tensors, {
    floatDtype: o.backend === 'cpu' ? 'F64' : 'F32',
    metadata: {
      ...o.extra,
      format: 'pt',
      webgpu_rnn_checkpoint: CHECKPOINT_VERSION,
      steps: String(snapshot.steps),
      seed: String(o.seed),
      model: JSON.stringify(o.model),
      optimizer: JSON.stringify(optimizerDescription(o.optimizer)),
      backend: o.backend,
      // ReduceLROnPlateau's state (its best as a string: JSON has no Infinity).
      ...(o.plateau ? { plateau: JSON.stringify({ ...o.plateau, best: String(o.plateau.best) }) } : {}),
      ...(o.fit ? { fit: JSON.stringify({ best: String(o.fit.best), bestStep: o.fit.bestStep, stale: o.fit.stale, bestParams: !!fitBest }) } : {}),
    },
  });
}

const RESERVED = { format: 1, webgpu_rnn_checkpoint: 1, steps: 1, seed: 1, model: 1, optimizer: 1, backend: 1, plateau: 1, fit: 1 };

/** What a checkpoint file says, before it is checked against a model (readCheckpoint does that). */
export interface CheckpointHeader {
  readonly file: SafetensorsFile;
  /** The model and optimizer as written (JSON), the seed and the steps. */
  readonly model: unknown;
  readonly optimizer: unknown;
  readonly seed: number;
  readonly steps: number;
  /** ReduceLROnPlateau's state, with that schedule. */
  readonly plateau?: PlateauState;
  /** fit's early-stopping state, in a checkpoint fit took while validating (its best parameters are read by checkpointSnapshot). */
  readonly fit?: Omit<FitState, 'bestParams'> & { hasBestParams: boolean };
  readonly metadata: Record<string, string>;
}

const invalid = (message: string): never => {
  throw new RnnError('WEIGHTS_INVALID', `checkpoint: ${message}`);
};

/** Reads a checkpoint's header (SAFETENSORS_INVALID for a damaged file, WEIGHTS_INVALID for a file that is not a checkpoint). */
export function readCheckpointHeader(source: Uint8Array | SafetensorsFile): CheckpointHeader {
  const file = source instanceof Uint8Array ? readSafetensors(source) : source;
  if (file === null || typeof file !== 'object' || !('metadata' in file))
    return invalid(`expected the bytes of a checkpoint file, got ${describeValue(source)}`);
  const m = file.metadata;
  if (m.webgpu_rnn_checkpoint === undefined)
    invalid('this safetensors file is not a training checkpoint (no "webgpu_rnn_checkpoint" metadata; weights alone load with options.weights)');
  if (m.webgpu_rnn_checkpoint !== CHECKPOINT_VERSION)
    invalid(`version ${describeValue(m.webgpu_rnn_checkpoint)}, this library reads version ${CHECKPOINT_VERSION}`);
  const json = (key: string): unknown => {
    try {
      return JSON.parse(m[key]);
    } catch {
      return invalid(`metadata "${key}" is not JSON: ${describeValue(m[key])}`);
    }
  };
  const int = (key: string): number => {
    const v = Number(m[key]);
    if (!/^\d+$/.test(m[key] ?? '') || !Number.isSafeInteger(v)) invalid(`metadata "${key}": expected a non-negative integer, got ${describeValue(m[key])}`);
    return v;
  };
  let plateau: PlateauState | undefined;
  if (m.plateau !== undefined) {
    const p = json('plateau') as Record<string, unknown>;
    const n = (k: string) => (typeof p?.[k] === 'number' ? (p[k] as number) : k === 'best' ? Number(p?.best) : Number.NaN);
    plateau = { lr: n('lr'), best: n('best'), badSteps: n('badSteps'), cooldownLeft: n('cooldownLeft') };
    if (Object.values(plateau).some(Number.isNaN)) invalid(`metadata "plateau" is not a plateau schedule's state: ${describeValue(m.plateau)}`);
  }
  let fit: CheckpointHeader['fit'];
  if (m.fit !== undefined) {
    const f = json('fit') as Record<string, unknown>;
    const best = typeof f?.best === 'string' ? Number(f.best) : Number.NaN;
    const whole = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    if (Number.isNaN(best) || !whole(f.bestStep) || !whole(f.stale) || typeof f.bestParams !== 'boolean')
      invalid(`metadata "fit" is not fit's early-stopping state: ${describeValue(m.fit)}`);
    fit = { best, bestStep: f.bestStep as number, stale: f.stale as number, hasBestParams: f.bestParams as boolean };
  }
  return { file, model: json('model'), optimizer: json('optimizer'), seed: int('seed'), steps: int('steps'), plateau, fit, metadata: m };
}

/**
 * The engine snapshot a checkpoint holds, checked against the model and optimizer it is resumed with:
 * every parameter and every state tensor the optimizer keeps, of its parameter's shape; carries of the
 * model's state layout. Unused state slots are zeros.
 */
export function checkpointSnapshot(
  header: CheckpointHeader,
  model: TrainableConfig,
  optimizer: OptimizerConfig,
): EngineSnapshot & { fitBest?: Record<string, Tensor> } {
  const { tensors } = header.file;
  const specs = modelParameterSpecs(model);
  const problems: string[] = [];
  const floats = (name: string, shape: readonly number[]): Float32Array | Float64Array | undefined => {
    const t = tensors[name];
    if (t === undefined) {
      problems.push(`missing tensor ${name} [${shape.join(', ')}]`);
      return undefined;
    }
    if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) {
      problems.push(`tensor ${name}: expected floats, got ${header.file.dtypes[name]}`);
      return undefined;
    }
    if (t.shape.join() !== shape.join()) {
      problems.push(`tensor ${name}: expected shape [${shape.join(', ')}], got [${t.shape.join(', ')}]`);
      return undefined;
    }
    return t.data;
  };
  const params: EngineSnapshot['params'] = {};
  const state: EngineSnapshot['state'] = { a: {}, b: {}, c: {} };
  for (const spec of specs) {
    params[spec.name] = floats(spec.name, spec.shape) ?? new Float32Array(0);
    for (const slot of SLOTS) state[slot][spec.name] = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
  }
  const kept = stateNames(optimizer);
  for (const [slot, name] of kept)
    for (const spec of specs) state[slot][spec.name] = floats(`optimizer.${spec.name}.${name}`, spec.shape) ?? state[slot][spec.name];
  // Nothing may be left over: a tensor of another model or optimizer means a mix-up.
  const expected = new Set([
    ...specs.map((s) => s.name),
    ...kept.flatMap(([, name]) => specs.map((s) => `optimizer.${s.name}.${name}`)),
    ...CARRIES.flatMap((k) => [`carry.${k}.h`, `carry.${k}.c`]),
  ]);
  let fitBest: Record<string, Tensor> | undefined;
  if (header.fit?.hasBestParams) {
    fitBest = {};
    for (const spec of specs) {
      expected.add(`fit.best.${spec.name}`);
      fitBest[spec.name] = { shape: spec.shape, data: floats(`fit.best.${spec.name}`, spec.shape) ?? new Float32Array(0) };
    }
  }
  const unexpected = Object.keys(tensors).filter((k) => !expected.has(k));
  if (unexpected.length)
    problems.push(`unexpected tensor(s) ${unexpected.slice(0, 3).join(', ')}${unexpected.length > 3 ? ', …' : ''} (another model or optimizer?)`);
  const carries: EngineSnapshot['carries'] = {};
  const recurrent = trainModel(model).recurrent.config;
  const D = recurrent.bidirectional ? 2 : 1;
  const rows = recurrent.num_layers * D;
  for (const kind of CARRIES) {
    const h = tensors[`carry.${kind}.h`];
    if (!h) continue;
    const B = h.shape[1];
    const Hout = recurrent.proj_size || recurrent.hidden_size;
    const hData = floats(`carry.${kind}.h`, [rows, B, Hout]);
    const cData = recurrent.mode === 'LSTM' ? floats(`carry.${kind}.c`, [rows, B, recurrent.hidden_size]) : undefined;
    if (hData) carries[kind] = { B, h: hData, c: cData };
  }
  if (problems.length)
    invalid(`${problems.length} problem(s) against this model and optimizer: ${problems.slice(0, 4).join('; ')}${problems.length > 4 ? '; …' : ''}`);
  return { steps: header.steps, params, state, carries, ...(fitBest ? { fitBest } : {}) };
}
