/**
 * `fit`: the training loop most uses need — epochs over a list of batches, progress callbacks (step,
 * loss, gradient norm, tokens per second, time left), a validation loss every so many steps with early
 * stopping on it, and a way to stop from outside (an AbortSignal, or a callback returning false).
 * Reading the loss back synchronises with the GPU, so it is read every `readEvery` steps only.
 * With `carryState`, consecutive batches of an epoch continue one another (truncated BPTT over a text,
 * text.ts); the state starts from zeros at each epoch. Validation does not disturb it (it carries its
 * own state, engine.ts).
 *
 * A non-finite loss ends the run: a training step's (the engine stops updating at the first such step
 * and reports it when the loss is next read: NonFiniteStepError) or the validation loss. The report
 * says `stopped: 'non-finite'` and which; the parameters are the last finite ones (those before that
 * training step, or those that gave the non-finite validation loss, which are finite themselves).
 * Early stopping leaves the last step's parameters, or with `restoreBest` (Keras's
 * restore_best_weights) those of the best validation loss — the weights only: the optimizer's state
 * and the step count stay the last step's.
 *
 * With the plateau schedule (ReduceLROnPlateau) each validation loss is its step.
 *
 * Checkpoints (checkpoint.ts) go to `onCheckpoint` every `checkpointEvery` steps and whenever the
 * validation loss is the best so far: the browser keeps the bytes (IndexedDB, a download), the CLI
 * writes a file.
 */
import { RnnError, describeValue } from '../errors.js';
import { checkOptions } from '../inputs.js';
import type { TrainBatch } from './batch.js';
import { NonFiniteStepError } from './engine.js';
import type { Tensor } from '../tensor.js';
import type { FitState } from './checkpoint.js';

/** What fit needs of a trainer (trainer.ts's Trainer has it). */
export interface Trainable {
  trainStep(batch: TrainBatch, options: { readLoss: boolean; carryState: boolean }): Promise<{ loss?: number; gradNorm?: number }>;
  evaluate(batch: TrainBatch): Promise<number>;
  /** checkpointEvery / onCheckpoint. */
  checkpoint?(options?: { metadata?: Record<string, string>; fit?: FitState }): Promise<Uint8Array>;
  /** A resumed trainer's early-stopping state (createTrainer({ resume })), continued when startStep is its step. */
  readonly resumedFit?: FitState & { step: number };
  /** restoreBest: the parameters now, and setting them back. */
  parameters?(): Promise<Record<string, Tensor>>;
  setParameters?(params: Record<string, Tensor>): Promise<void>;
  /** The plateau schedule observes each validation loss. */
  readonly optimizer?: { readonly lr_schedule?: { readonly name: string } };
  plateauStep?(validationLoss: number): void;
}

/** Why a checkpoint was taken: every checkpointEvery steps, or at the best validation loss so far. */
export interface FitCheckpoint {
  step: number;
  reason: 'every' | 'best';
  /** The validation loss that made it the best. */
  validationLoss?: number;
}

export interface FitProgress {
  step: number;
  epoch: number;
  /** The loss of this step (when read back: every readEvery steps, and on the last step). */
  loss?: number;
  gradNorm?: number;
  /** Input positions (T·B) per second over the steps since the last report. */
  tokensPerSecond: number;
  /** Seconds left at the current pace. */
  etaSeconds: number;
  /** Set on the steps that validated (onProgress is called on those too, whether or not the loss was read). */
  validationLoss?: number;
}

export interface FitOptions {
  epochs?: number;
  /** Stop after this many steps in all. */
  maxSteps?: number;
  validation?: readonly TrainBatch[];
  /** Validate every this many steps (default: at the end of each epoch). */
  validateEvery?: number;
  /** Stop when the validation loss has not improved by minDelta for `patience` validations. */
  earlyStopping?: { patience: number; minDelta?: number };
  /** Read the loss back every this many steps (default 1). */
  readEvery?: number;
  carryState?: boolean;
  /** Called after each step that read the loss or validated (awaited: it may save a checkpoint); return false to stop. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a callback that returns nothing (console.log, say) is what most callers pass
  onProgress?: (p: FitProgress) => boolean | void | Promise<boolean | void>;
  signal?: AbortSignal;
  /** With earlyStopping (or any validation): end with the parameters of the best validation loss. */
  restoreBest?: boolean;
  /** Hand a checkpoint to onCheckpoint every this many steps (and at each best validation loss). */
  checkpointEvery?: number;
  /**
   * Steps of this run the trainer has already taken (a resumed run: createTrainer({ resume }) then
   * fit with startStep = trainer.steps): the run goes on from that epoch and batch, the carried state
   * continuing, and maxSteps and the progress count the whole run.
   */
  startStep?: number;
  /** Entries of the caller's own in every checkpoint's metadata. */
  checkpointMetadata?: Record<string, string>;
  /** Receives checkpoints (awaited: a slow write holds the loop rather than piling up). */
  onCheckpoint?: (bytes: Uint8Array, info: FitCheckpoint) => void | Promise<void>;
}

export interface FitReport {
  /** Steps that updated the parameters. */
  steps: number;
  /** [step, loss] of every step whose loss was read. */
  losses: Array<[number, number]>;
  validation: Array<[number, number]>;
  stopped: 'done' | 'early' | 'aborted' | 'non-finite';
  /** With stopped 'non-finite': which loss was not finite, at which step, and the message to show. */
  nonFinite?: { what: 'training' | 'validation'; step: number; loss: number; message: string };
  /** With restoreBest: the step whose parameters the trainer holds now (when not the last). */
  restored?: number;
  /**
   * With validation: the early-stopping state at the end, for a checkpoint taken after fit
   * (trainer.checkpoint({ fit: report.fitState })) that a resumed fit continues from.
   */
  fitState?: FitState;
  seconds: number;
}

const FIT_OPTIONS = [
  'epochs',
  'maxSteps',
  'validation',
  'validateEvery',
  'earlyStopping',
  'readEvery',
  'carryState',
  'onProgress',
  'signal',
  'restoreBest',
  'checkpointEvery',
  'onCheckpoint',
  'startStep',
  'checkpointMetadata',
] as const;

export async function fit(trainer: Trainable, batches: readonly TrainBatch[], options: FitOptions = {}): Promise<FitReport> {
  const o = checkOptions<FitOptions>('fit options', options, FIT_OPTIONS);
  const count = (name: string, v: unknown, fallback: number) => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
      throw new RnnError('OPTION_INVALID', `fit options.${name}: expected a positive integer, got ${describeValue(v)}`);
    return v;
  };
  if (!Array.isArray(batches) || batches.length === 0)
    throw new RnnError('OPTION_INVALID', `fit: expected a non-empty array of batches, got ${describeValue(batches)}`);
  const epochs = count('epochs', o.epochs, 1);
  const readEvery = count('readEvery', o.readEvery, 1);
  const total = Math.min(epochs * batches.length, count('maxSteps', o.maxSteps, Number.MAX_SAFE_INTEGER));
  const validateEvery = o.validation?.length ? count('validateEvery', o.validateEvery, batches.length) : 0;
  const checkpointEvery = o.checkpointEvery === undefined ? 0 : count('checkpointEvery', o.checkpointEvery, 0);
  if (o.onCheckpoint !== undefined && typeof o.onCheckpoint !== 'function')
    throw new RnnError('OPTION_INVALID', `fit options.onCheckpoint: expected a function, got ${describeValue(o.onCheckpoint)}`);
  if (checkpointEvery && !o.onCheckpoint) throw new RnnError('OPTION_INVALID', 'fit options.checkpointEvery: needs onCheckpoint, which receives them');
  if (o.restoreBest !== undefined && typeof o.restoreBest !== 'boolean')
    throw new RnnError('OPTION_INVALID', `fit options.restoreBest: expected true or false, got ${describeValue(o.restoreBest)}`);
  if (o.restoreBest && !validateEvery)
    throw new RnnError('OPTION_INVALID', 'fit options.restoreBest: needs validation batches (the best is the best validation loss)');
  let bestParams: Record<string, Tensor> | undefined;
  let bestStep = 0;
  let best = Number.POSITIVE_INFINITY;
  let stale = 0;
  const startStep = o.startStep ?? 0;
  if (!Number.isSafeInteger(startStep) || startStep < 0)
    throw new RnnError('OPTION_INVALID', `fit options.startStep: expected a non-negative integer, got ${describeValue(o.startStep)}`);
  // A resumed run goes on with the early-stopping state its checkpoint held (and its best weights, with restoreBest).
  const resumed = trainer.resumedFit;
  if (resumed && startStep > 0 && resumed.step === startStep) {
    [best, bestStep, stale] = [resumed.best, resumed.bestStep, resumed.stale];
    if (o.restoreBest && trainer.parameters) bestParams = resumed.bestParams ?? (resumed.bestStep === startStep ? await trainer.parameters() : undefined);
  }
  // Checkpoints carry that state while validating, so that a run resumed from one stops where this one would.
  const save = async (info: FitCheckpoint) => {
    if (!o.onCheckpoint || !trainer.checkpoint) return;
    const fitState = validateEvery ? { best, bestStep, stale, bestParams: o.restoreBest ? bestParams : undefined } : undefined;
    await o.onCheckpoint(await trainer.checkpoint({ metadata: o.checkpointMetadata, ...(fitState ? { fit: fitState } : {}) }), info);
  };
  const report: FitReport = { steps: startStep, losses: [], validation: [], stopped: 'done', seconds: 0 };
  const started = performance.now();
  let lastTime = started;
  let lastTokens = 0;
  let tokens = 0;
  let fresh = true;
  // Positions per batch: the sequence's, or an encoder–decoder's target steps.
  const positions = (b: TrainBatch) => {
    const shape = (b.tokens ?? b.input ?? b.target_in)!.shape;
    return shape[0] * shape[1];
  };
  outer: for (let epoch = Math.floor(startStep / batches.length); epoch < epochs; epoch++) {
    // A resumed run goes on mid-epoch, its carried state continuing.
    const from = epoch === Math.floor(startStep / batches.length) ? startStep % batches.length : 0;
    fresh = from === 0;
    for (const batch of batches.slice(from)) {
      if (report.steps >= total) break outer;
      if (o.signal?.aborted) {
        report.stopped = 'aborted';
        break outer;
      }
      const step = report.steps + 1;
      const read = step % readEvery === 0 || step === total;
      let r: { loss?: number; gradNorm?: number };
      try {
        r = await trainer.trainStep(batch, { readLoss: read, carryState: (o.carryState ?? false) && !fresh });
      } catch (e) {
        if (!(e instanceof NonFiniteStepError)) throw e;
        // The engine is back at the step before the first non-finite one.
        report.steps = e.step - 1;
        report.stopped = 'non-finite';
        report.nonFinite = { what: 'training', step: e.step, loss: e.loss, message: e.message };
        break outer;
      }
      fresh = false;
      report.steps = step;
      tokens += positions(batch);
      let validationLoss: number | undefined;
      if (validateEvery && (step % validateEvery === 0 || step === total)) {
        let sum = 0;
        for (const v of o.validation!) sum += await trainer.evaluate(v);
        validationLoss = sum / o.validation!.length;
        report.validation.push([step, validationLoss]);
        if (trainer.optimizer?.lr_schedule?.name === 'plateau' && Number.isFinite(validationLoss)) trainer.plateauStep?.(validationLoss);
        if (!Number.isFinite(validationLoss)) {
          report.stopped = 'non-finite';
          report.nonFinite = {
            what: 'validation',
            step,
            loss: validationLoss,
            message: `fit: the validation loss after step ${step} was ${validationLoss} (not finite); training stopped there, with the parameters of step ${step}`,
          };
        } else if (validationLoss < best - (o.earlyStopping?.minDelta ?? 0)) {
          [best, bestStep, stale] = [validationLoss, step, 0];
          if (o.restoreBest && trainer.parameters) bestParams = await trainer.parameters();
          await save({ step, reason: 'best', validationLoss });
        } else if (o.earlyStopping && ++stale >= o.earlyStopping.patience) {
          report.stopped = 'early';
        }
      }
      if (checkpointEvery && step % checkpointEvery === 0) await save({ step, reason: 'every' });
      if (read) report.losses.push([step, r.loss!]);
      if (read || validationLoss !== undefined) {
        const now = performance.now();
        const rate = ((tokens - lastTokens) * 1000) / Math.max(1e-3, now - lastTime);
        const perStep = (now - started) / 1000 / (step - startStep);
        [lastTime, lastTokens] = [now, tokens];
        const go = await o.onProgress?.({
          step,
          epoch,
          loss: r.loss,
          gradNorm: r.gradNorm,
          tokensPerSecond: rate,
          etaSeconds: perStep * (total - step),
          validationLoss,
        });
        if (go === false && report.stopped === 'done') {
          report.stopped = 'aborted';
          break outer;
        }
      }
      if (report.stopped !== 'done') break outer;
    }
  }
  if (validateEvery) report.fitState = { best, bestStep, stale, bestParams: o.restoreBest ? bestParams : undefined };
  if (bestParams && bestStep !== report.steps && trainer.setParameters) {
    await trainer.setParameters(bestParams);
    report.restored = bestStep;
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
