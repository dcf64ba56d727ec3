/**
 * Training on the CPU: the float64 reference of the model's layers (reference-model.ts), its loss and
 * the optimizers' reference updates (optim.ts) behind the engine interface (engine.ts). It is the oracle the GPU trainer is tested
 * against, and a fallback where WebGPU is missing. Parameters are kept by state_dict name; the
 * optimizer sees them as one flat vector in state_dict order (its update is elementwise, and
 * clip_grad_norm_'s norm is global).
 */
import type { PreparedBatch } from './batch.js';
import type { ModelConfig, TrainableConfig } from './config.js';
import {
  type CarryKind,
  type CarrySnapshot,
  type EngineGradients,
  type EngineSnapshot,
  type EngineStepResult,
  type Halt,
  NonFiniteStepError,
  type TrainEngine,
  checkCarriedBatch,
} from './engine.js';
import { type OptimizerConfig, type OptimizerState, addL1, gradNorm, optimizerState, referenceStep } from './optim.js';
import { type TrainModel, trainModel } from './model.js';
import { type ModelForward, modelBackward, modelForward, modelLoss } from './reference-model.js';
import { type BeamRecord, type ResolvedDecode, decodeReference } from './decode.js';
import { type ResolvedSample, sampleReference } from './sample.js';

export class CpuTrainer implements TrainEngine {
  readonly backend = 'cpu' as const;
  private readonly names: string[];
  private readonly composition: TrainModel;
  private state?: OptimizerState;
  /** Optimizer steps taken. */
  steps = 0;
  /** The final states the carried calls start from (engine.ts). */
  private readonly carries = new Map<CarryKind, { B: number; hN: Float64Array; cN: Float64Array }>();
  private halt?: Halt;

  constructor(
    readonly model: TrainableConfig,
    readonly params: Record<string, Float64Array>,
    readonly seed = 0,
  ) {
    this.composition = trainModel(model);
    this.names = this.composition.specs.map((s) => s.name);
  }

  /** The batch starting from a carry (or as it is), checked. */
  private from(kind: CarryKind, batch: PreparedBatch, carry: boolean): PreparedBatch {
    if (!carry) return batch;
    const held = this.carries.get(kind);
    checkCarriedBatch(kind, held?.B, batch.B);
    return held ? { ...batch, h0: held.hN, c0: this.composition.recurrent.config.mode === 'LSTM' ? held.cN : undefined } : batch;
  }

  private forward(kind: CarryKind, batch: PreparedBatch, training: boolean): ModelForward {
    const f = modelForward(this.composition, this.params, batch, { training, seed: (this.seed + this.steps) >>> 0 });
    this.carries.set(kind, { B: batch.B, hN: f.hN, cN: f.cN });
    return f;
  }

  async step(batchIn: PreparedBatch, opt: OptimizerConfig, options: { readLoss: boolean; carry: boolean }): Promise<EngineStepResult> {
    const batch = this.from('train', batchIn, options.carry);
    const forward = this.forward('train', batch, true);
    const { loss: dataLoss, dy } = modelLoss(this.composition, forward);
    let loss = dataLoss;
    this.steps++;
    // As on the GPU: once a step is not finite, no step updates until the halt is read back.
    let result: EngineStepResult = {};
    if (!this.halt) {
      const g = this.flat(modelBackward(this.composition, forward, dy).grads);
      if (opt.l1 > 0) loss += addL1(opt.l1, this.flat(this.params), g);
      const norm = clippedNorm(opt, g);
      if (Number.isFinite(loss) && Number.isFinite(norm)) {
        const p = this.flat(this.params);
        this.state ??= optimizerState(p.length);
        referenceStep(opt, this.state, p, g);
        this.unflat(p);
      } else {
        this.halt = { step: this.steps, loss, gradNorm: norm };
      }
      result = { loss, gradNorm: norm };
    }
    if (!options.readLoss) return {};
    this.report();
    return result;
  }

  /** Rejects with the halt, if any, after stepping back to the step before it. */
  private report(): void {
    const halt = this.halt;
    if (!halt) return;
    const skipped = this.steps - halt.step;
    this.halt = undefined;
    this.steps = halt.step - 1;
    throw new NonFiniteStepError(halt.step, halt.loss, halt.gradNorm, skipped);
  }

  async evaluate(batchIn: PreparedBatch, carry: boolean): Promise<number> {
    const batch = this.from('eval', batchIn, carry);
    return modelLoss(this.composition, this.forward('eval', batch, false)).loss;
  }

  async predict(batch: PreparedBatch, carry: boolean): Promise<Float64Array> {
    return this.forward('eval', this.from('eval', batch, carry), false).y;
  }

  async gradients(batch: PreparedBatch, options: { flow: boolean }): Promise<EngineGradients> {
    const forward = modelForward(this.composition, this.params, batch, { training: true, seed: (this.seed + this.steps) >>> 0 });
    const { loss, dy } = modelLoss(this.composition, forward);
    const g = modelBackward(this.composition, forward, dy);
    return {
      loss,
      gradNorm: gradNorm(this.flat(g.grads)),
      grads: g.grads,
      h0: g.h0,
      c0: this.composition.recurrent.config.mode === 'LSTM' ? g.c0 : undefined,
      flow: options.flow ? g.flow.map((f) => Array.from(f)) : undefined,
    };
  }

  async parameters(): Promise<Record<string, Float64Array>> {
    return Object.fromEntries(this.names.map((k) => [k, Float64Array.from(this.params[k])]));
  }

  async sample(prompt: Int32Array, options: ResolvedSample): Promise<number[]> {
    return sampleReference(this.model as ModelConfig, this.params, prompt, options);
  }

  async decode(source: PreparedBatch & { rows: number }, options: ResolvedDecode): Promise<BeamRecord> {
    return decodeReference(this.composition, this.params, source, options);
  }

  diagnostics(): undefined {
    return undefined;
  }

  async snapshot(): Promise<EngineSnapshot> {
    this.report();
    const n = this.names.reduce((k, name) => k + this.params[name].length, 0);
    const state = this.state ?? optimizerState(n);
    const carries: EngineSnapshot['carries'] = {};
    const lstm = this.composition.recurrent.config.mode === 'LSTM';
    for (const [kind, held] of this.carries) carries[kind] = { B: held.B, h: Float64Array.from(held.hN), c: lstm ? Float64Array.from(held.cN) : undefined };
    return {
      steps: this.steps,
      params: await this.parameters(),
      state: { a: this.named(state.a), b: this.named(state.b), c: this.named(state.c) },
      carries,
    };
  }

  async restore(s: EngineSnapshot): Promise<void> {
    for (const k of this.names) this.params[k].set(s.params[k]);
    this.state = { step: s.steps, a: this.flat(toF64(s.state.a)), b: this.flat(toF64(s.state.b)), c: this.flat(toF64(s.state.c)) };
    this.steps = s.steps;
    this.halt = undefined;
    this.carries.clear();
    for (const [kind, held] of Object.entries(s.carries) as Array<[CarryKind, CarrySnapshot]>) {
      this.carries.set(kind, { B: held.B, hN: Float64Array.from(held.h), cN: held.c ? Float64Array.from(held.c) : new Float64Array(0) });
    }
  }

  /** A flat vector in state_dict order, back to tensors by name. */
  private named(flat: Float64Array): Record<string, Float64Array> {
    const out: Record<string, Float64Array> = {};
    let o = 0;
    for (const k of this.names) {
      out[k] = flat.slice(o, o + this.params[k].length);
      o += this.params[k].length;
    }
    return out;
  }

  async destroy(): Promise<void> {}

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

/** ‖g‖ as clip_grad_norm_ returns it: after clip_grad_value_ (which referenceStep applies), before norm clipping. */
function toF64(tensors: Record<string, ArrayLike<number>>): Record<string, Float64Array> {
  return Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, Float64Array.from(v)]));
}

function clippedNorm(opt: OptimizerConfig, g: Float64Array): number {
  const v = opt.clip_grad_value;
  return v === undefined ? gradNorm(g) : gradNorm(g.map((x) => Math.min(Math.max(x, -v), v)));
}
