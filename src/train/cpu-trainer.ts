/**
 * Training on the CPU: the float64 reference (src/reference/train-*.ts, loss.ts, and the optimizer of
 * optim.ts) behind the trainer API. It is the oracle the GPU trainer is tested against, and a
 * fallback where WebGPU is missing. Parameters are kept by state_dict name; the optimizer sees them as
 * one flat vector in state_dict order (its update is elementwise, and clip_grad_norm_'s norm is global).
 */
import { lossAndGradient } from '../reference/loss.js';
import { trainBackward } from '../reference/train-backward.js';
import { trainForward } from '../reference/train-forward.js';
import type { PreparedBatch } from './batch.js';
import { type ModelConfig, modelParameterSpecs, outputFeatures } from './config.js';
import { type OptimizerConfig, type OptimizerState, gradNorm, optimizerState, referenceStep } from './optim.js';

export interface StepResult {
  /** The loss before the update. */
  loss: number;
  /** ‖g‖ over all parameters, as clip_grad_norm_ returns it (after value clipping, before norm clipping). */
  gradNorm: number;
}

export interface GradientResult {
  loss: number;
  gradNorm: number;
  /** By state_dict name. */
  grads: Record<string, Float64Array>;
  /** dL/dh0, dL/dc0 (as h0 / c0 are shaped, whether given or zeros). */
  h0: Float64Array;
  c0: Float64Array;
  /** flow[l][t] = ‖∂L/∂h_t‖ of layer l. */
  flow: Float64Array[];
  /** The model's output, time-major. */
  y: Float64Array;
}

export class CpuTrainer {
  readonly names: string[];
  private state?: OptimizerState;
  /** Optimizer steps taken. */
  stepsTaken = 0;

  constructor(readonly model: ModelConfig, readonly params: Record<string, Float64Array>, readonly seed = 0) {
    this.names = modelParameterSpecs(model).map((s) => s.name);
  }

  /** The final state (h_n, c_n) of the last forward, which `carry` starts the next one from. */
  private last?: { hN: Float64Array; cN: Float64Array };

  private carried(batch: PreparedBatch, carry: boolean): PreparedBatch {
    return carry && this.last ? { ...batch, h0: this.last.hN, c0: this.model.rnn.mode === 'LSTM' ? this.last.cN : undefined } : batch;
  }

  /** Forward, loss and backward; `training` applies dropout with this step's masks. */
  gradients(batchIn: PreparedBatch, training = true, carry = false): GradientResult {
    const batch = this.carried(batchIn, carry);
    const options = { training, seed: (this.seed + this.stepsTaken) >>> 0 };
    const cache = trainForward(this.model, this.params, batch, options);
    this.last = { hN: cache.hN, cN: cache.cN };
    const { loss, dy } = lossAndGradient(this.model.loss, cache.y, batch.target, outputFeatures(this.model));
    const g = trainBackward(this.model, this.params, cache, dy);
    return { loss, gradNorm: gradNorm(this.flat(g.params)), grads: g.params, h0: g.h0, c0: g.c0, flow: g.flow, y: cache.y };
  }

  /** The model's output (evaluation mode), time-major: (T·B or B rows, O). */
  predict(batch: PreparedBatch, carry = false): Float64Array {
    return this.forwardOnly(batch, carry).y;
  }

  /** The loss alone, in evaluation mode (no dropout). */
  evaluate(batchIn: PreparedBatch, carry = false): number {
    const batch = this.carried(batchIn, carry);
    const cache = this.forwardOnly(batch, false);
    return lossAndGradient(this.model.loss, cache.y, batch.target, outputFeatures(this.model)).loss;
  }

  /** The forward in evaluation mode; its final state is what the next carried call starts from. */
  private forwardOnly(batchIn: PreparedBatch, carry: boolean) {
    const cache = trainForward(this.model, this.params, this.carried(batchIn, carry), { training: false, seed: 0 });
    this.last = { hN: cache.hN, cN: cache.cN };
    return cache;
  }

  /** One training step: gradients, clipping, the optimizer's update (and the schedule's step). */
  step(batch: PreparedBatch, opt: OptimizerConfig, carry = false): StepResult {
    const g = this.gradients(batch, true, carry);
    const p = this.flat(this.params);
    this.state ??= optimizerState(p.length);
    const norm = referenceStep(opt, this.state, p, this.flat(g.grads));
    this.unflat(p);
    this.stepsTaken++;
    return { loss: g.loss, gradNorm: norm };
  }

  private flat(tensors: Record<string, Float64Array>): Float64Array {
    const out = new Float64Array(this.names.reduce((n, k) => n + tensors[k].length, 0));
    let o = 0;
    for (const k of this.names) {
      out.set(tensors[k], o);
      o += tensors[k].length;
    }
    return out;
  }

  private unflat(flat: Float64Array): void {
    let o = 0;
    for (const k of this.names) {
      this.params[k].set(flat.subarray(o, o + this.params[k].length));
      o += this.params[k].length;
    }
  }
}
