/**
 * Training on WebGPU, behind the engine interface (engine.ts): the parameters, their gradients and the
 * optimizer's state in three flat GPU buffers (model.ts: each layer's section), a training plan per batch shape
 * (plan.ts, at most a few kept), the carried states (one buffer per kind of carry), and the host
 * side of a step — writing the batch, the step's scalars (loss scale, learning rate, bias corrections,
 * dropout seeds) and replaying the plan's commands in one submission. Calls run one at a time, in
 * order (a promise chain), as the inference engine's do.
 */
import { numDirections, outputSize } from '../config.js';
import { STORAGE_USAGE } from '../gpu/constants.js';
import { PlanSizes } from '../gpu/state.js';
import { RnnError } from '../errors.js';
import type { GpuContext } from '../gpu/context.js';
import type { BackwardStrategy } from '../gpu/ops/backward.js';
import { RESULT_SLOTS, RESULT_WORDS, optimizerLength } from '../gpu/ops/optimizer.js';
import { recordL1 } from '../gpu/ops/l1.js';
import { recordSum } from '../gpu/ops/reduce.js';
import { type Command, copy, replay } from '../gpu/program.js';
import { readBuffer } from '../gpu/readback.js';
import { OwningRecorder } from '../gpu/recorder.js';
import type { PreparedBatch } from './batch.js';
import type { TrainableConfig } from './config.js';
import {
  type CarryKind,
  type CarrySnapshot,
  type EngineSnapshot,
  type EngineDiagnostics,
  type EngineGradients,
  type EngineStepResult,
  NonFiniteStepError,
  type TrainEngine,
  checkCarriedBatch,
} from './engine.js';
import { type TrainModel, packParameters, trainModel, unpackParameters } from './model.js';
import { type OptimizerConfig, optimizerKernel, optimizerScalars } from './optim.js';
import { type SharedBuffers, TrainPlan } from './plan.js';
import { chooseBackward } from './layers/recurrent/strategy.js';

export { chooseBackward };
import { type ResolvedSample, recordSampling } from './sample.js';
import type { BeamRecord, ResolvedDecode } from './decode.js';
import { recordDecode } from './decode-gpu.js';
import { type GpuTensor, gpuTensor } from '../gpu/gpu-tensor.js';

const MAX_PLANS = 3;

/**
 * Checks, before anything is allocated, that the model's parameters, gradients and optimizer state fit
 * the device's buffers (three flat buffers of the parameter count, the state three times that).
 */
export function checkTrainerFits(model: TrainableConfig, limits: GPUSupportedLimits): void {
  const n = trainModel(model).size;
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const bytes = 3 * optimizerLength(n) * 4;
  if (bytes > limit) {
    throw new RnnError(
      'LIMIT_EXCEEDED',
      `the model's ${n} parameters need ${bytes} bytes of optimizer state in one buffer, above this device's ${limit} (maxStorageBufferBindingSize); make the model smaller`,
    );
  }
}

export class GpuTrainer implements TrainEngine {
  readonly backend = 'webgpu' as const;
  private readonly composition: TrainModel;
  private readonly shared: SharedBuffers;
  private readonly plans = new Map<string, TrainPlan>();
  /** The final states the carried calls start from (engine.ts), on the GPU. */
  private readonly carries = new Map<CarryKind, { B: number; buffer: GPUBuffer }>();
  private queue: Promise<unknown> = Promise.resolve();
  private destroyed = false;
  /** Optimizer steps taken (the next one is steps + 1). */
  steps = 0;
  /** The last step's L1 λ (its loss adds λ·Σ|θ|), and the penalty's commands once made. */
  private l1 = 0;
  private penalty?: { commands: Command[]; set: (queue: GPUQueue, lambda: number) => void; recorder: OwningRecorder };

  /** The strategy asked for ('auto': each plan takes the fastest that fits its shape, chooseBackward). */
  private readonly strategy: BackwardStrategy | 'auto';
  /** The strategy of the plan used last. */
  backward: BackwardStrategy;

  constructor(
    readonly ctx: GpuContext,
    readonly model: TrainableConfig,
    params: Readonly<Record<string, ArrayLike<number>>>,
    readonly seed = 0,
    strategy: BackwardStrategy | 'auto' = 'auto',
  ) {
    this.strategy = strategy;
    checkTrainerFits(model, ctx.limits);
    this.composition = trainModel(model);
    this.backward = chooseBackward(this.composition.recurrent.config, strategy);
    // Each vector at the optimizer's padded length (its kernel reads vec4s): the padding stays 0.
    const length = optimizerLength(this.composition.size);
    const packed = new Float32Array(length);
    packed.set(packParameters(this.composition, params));
    this.shared = {
      params: ctx.storageFrom('Trainer.params', packed),
      grads: ctx.storageFrom('Trainer.grads', new Float32Array(length)),
      state: ctx.storageFrom('Trainer.state', new Float32Array(3 * length)),
      results: ctx.storageFrom('Trainer.results', new Float32Array(RESULT_WORDS)),
    };
    ctx.attach();
  }

  private enqueue<R>(work: () => Promise<R> | R): Promise<R> {
    if (this.destroyed) return Promise.reject(new RnnError('DESTROYED', 'trainer: used after destroy()'));
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** The plan of a batch's shape (T, B, and an encoder–decoder's S), made or reused. */
  private plan(batch: PreparedBatch, flow: boolean): TrainPlan {
    const { T, B, S } = batch;
    const key = `${T}x${B}${S === undefined ? '' : `:S${S}`}${flow ? ':flow' : ''}`;
    let plan = this.plans.get(key);
    if (plan) {
      this.plans.delete(key);
    } else {
      plan = new TrainPlan(this.ctx, this.composition, this.shared, T, B, { strategy: this.strategy, flow }, S);
      if (this.plans.size >= MAX_PLANS) {
        const [oldestKey, oldest] = this.plans.entries().next().value!;
        this.plans.delete(oldestKey);
        oldest.release();
      }
    }
    this.plans.set(key, plan);
    this.backward = plan.recurrent.strategy;
    return plan;
  }

  /** Replays `commands` in one submission. */
  private async submit(plan: Pick<TrainPlan, 'tag'>, commands: Command[]): Promise<void> {
    const device = this.ctx.device;
    this.ctx.checkAlive();
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder({ label: plan.tag });
    replay(encoder, commands, plan.tag);
    device.queue.submit([encoder.finish()]);
    const error = await device.popErrorScope().catch(() => null);
    if (error) throw new RnnError('GPU_VALIDATION', `WebGPU validation error in ${plan.tag}: ${error.message}`);
  }

  /**
   * The L1 penalty's commands (gpu/ops/l1.ts), made at the first step that has one: the gradient
   * λ·sign(θ) added to every gradient and Σ|θ| into results[l1Sum], between a plan's gradients and its
   * norm. They read only the trainer's own buffers, so every plan shares them.
   */
  private l1Penalty(): { commands: Command[]; set: (queue: GPUQueue, lambda: number) => void } {
    if (this.penalty) return this.penalty;
    const n = this.composition.size;
    const rec = new OwningRecorder(this.ctx, 'Trainer.l1');
    const magnitudes = gpuTensor(rec.storage('Trainer.l1.magnitudes', n), [n]);
    const l1 = recordL1(rec, 'Trainer.l1', { n, params: gpuTensor(this.shared.params, [n]), grads: gpuTensor(this.shared.grads, [n]), magnitudes });
    const sum = recordSum(rec, 'Trainer.l1Sum', magnitudes, n, false, this.shared.results, RESULT_SLOTS.l1Sum);
    this.penalty = { commands: [l1.command, ...sum], set: l1.set, recorder: rec };
    return this.penalty;
  }

  /** Floats of one layer's state: h (D, B, H_out) then, for LSTM, c (D, B, H). */
  private layerState(B: number): number {
    return new PlanSizes(this.composition.recurrent.config, 1, B).layerState;
  }

  /**
   * The copies around a forward of `kind` (engine.ts): before it, the carry into the plan's initial
   * states (when `carry` and the carry is written: they replace the zeros or h0 / c0 the plan's write
   * put there); after it, the plan's final states into the carry.
   */
  private carryCommands(kind: CarryKind, plan: TrainPlan, B: number, carry: boolean): { before: Command[]; after: Command[] } {
    const per = this.layerState(B) * 4;
    let held = this.carries.get(kind);
    if (carry) checkCarriedBatch(kind, held?.B, B);
    const before = carry && held ? plan.recurrent.initialStates.map((buffer, l) => copy(held!.buffer, l * per, buffer, 0, per)) : [];
    if (held && held.B !== B) {
      this.ctx.release(held.buffer);
      held = undefined;
    }
    if (!held) {
      held = { B, buffer: this.ctx.buffer(`Trainer.carry.${kind}`, plan.recurrent.finalStates.length * per, STORAGE_USAGE) };
      this.carries.set(kind, held);
    }
    const target = held.buffer;
    return { before, after: plan.recurrent.finalStates.map((buffer, l) => copy(buffer, 0, target, l * per, per)) };
  }

  /** The results words [loss, ‖g‖², halt step, halt loss, halt ‖g‖²]; a halt is reported (and cleared). */
  private async readResults(): Promise<{ loss: number; gradNorm: number }> {
    const words = await readBuffer(this.ctx, 'Trainer.results', this.shared.results, RESULT_WORDS);
    const haltStep = new Uint32Array(words.buffer)[RESULT_SLOTS.haltStep];
    if (haltStep !== 0) {
      this.ctx.device.queue.writeBuffer(this.shared.results, RESULT_SLOTS.haltStep * 4, new Uint32Array(3));
      const skipped = this.steps - haltStep;
      this.steps = haltStep - 1;
      throw new NonFiniteStepError(haltStep, words[RESULT_SLOTS.haltLoss], Math.sqrt(words[RESULT_SLOTS.haltNormSq]), skipped);
    }
    // The L1 penalty's share of the loss, λ·Σ|θ| (the GPU summed |θ|).
    return { loss: words[RESULT_SLOTS.loss] + this.l1 * words[RESULT_SLOTS.l1Sum], gradNorm: Math.sqrt(words[RESULT_SLOTS.normSq]) };
  }

  step(batch: PreparedBatch, opt: OptimizerConfig, options: { readLoss: boolean; carry: boolean }): Promise<EngineStepResult> {
    return this.enqueue(async () => {
      const plan = this.plan(batch, false);
      const carried = this.carryCommands('train', plan, batch.B, options.carry);
      const step = this.steps + 1;
      plan.write(batch, { seed: this.seed + this.steps, training: true, clipValue: opt.clip_grad_value ?? 0 });
      const l1 = opt.l1 > 0 ? this.l1Penalty() : undefined;
      l1?.set(this.ctx.device.queue, opt.l1);
      this.l1 = opt.l1;
      await this.submit(plan, [
        ...carried.before,
        ...plan.forward,
        ...carried.after,
        ...plan.gradients,
        ...(l1?.commands ?? []),
        ...plan.norm,
        ...plan.update(optimizerKernel(opt), optimizerScalars(opt, step)),
      ]);
      this.steps = step;
      return options.readLoss ? this.readResults() : {};
    });
  }

  evaluate(batch: PreparedBatch, carry: boolean): Promise<number> {
    return this.enqueue(async () => {
      const plan = this.plan(batch, false);
      const carried = this.carryCommands('eval', plan, batch.B, carry);
      plan.write(batch, { seed: this.seed + this.steps, training: false, clipValue: 0 });
      await this.submit(plan, [...carried.before, ...plan.forward, ...carried.after]);
      return (await readBuffer(this.ctx, 'Trainer.loss', this.shared.results, 1))[0];
    });
  }

  predict(batch: PreparedBatch, carry: boolean): Promise<Float32Array> {
    return this.enqueue(async () => {
      const plan = this.plan(batch, false);
      const carried = this.carryCommands('eval', plan, batch.B, carry);
      plan.write(batch, { seed: this.seed + this.steps, training: false, clipValue: 0 });
      await this.submit(plan, [...carried.before, ...plan.forward, ...carried.after]);
      return readBuffer(this.ctx, 'Trainer.prediction', plan.prediction.buffer, plan.prediction.elements);
    });
  }

  /**
   * Forward and backward without an update: the loss, ‖g‖, every gradient, dL/dh0 and dL/dc0, and with
   * `flow` the gradient-flow norms. Neither carry is read or written.
   */
  gradients(batch: PreparedBatch, options: { flow: boolean }): Promise<EngineGradients> {
    return this.enqueue(async () => {
      const plan = this.plan(batch, options.flow);
      plan.write(batch, { seed: this.seed + this.steps, training: true, clipValue: 0 });
      await this.submit(plan, [...plan.forward, ...plan.backward]);
      const words = await readBuffer(this.ctx, 'Trainer.results', this.shared.results, 2);
      const grads = unpackParameters(this.composition, await readBuffer(this.ctx, 'Trainer.grads', this.shared.grads, this.composition.size));
      // The module the engine reports on: the model's rnn, or an encoder–decoder's encoder (over S steps).
      const rnn = this.composition.recurrent.config;
      const { B } = batch;
      const T = plan.recurrent.T;
      const L = rnn.num_layers;
      const D = numDirections(rnn);
      const Hout = outputSize(rnn);
      const H = rnn.hidden_size;
      const lstm = rnn.mode === 'LSTM';
      // Per layer in the state layout: dL/dh0 (D, B, H_out) then dL/dc0 (D, B, H).
      const per = this.layerState(B);
      const initial = await readBuffer(this.ctx, 'Trainer.initialGrads', plan.recurrent.initialGrads, L * per);
      const h0 = new Float32Array(L * D * B * Hout);
      const c0 = lstm ? new Float32Array(L * D * B * H) : undefined;
      for (let l = 0; l < L; l++) {
        h0.set(initial.subarray(l * per, l * per + D * B * Hout), l * D * B * Hout);
        c0?.set(initial.subarray(l * per + D * B * Hout, (l + 1) * per), l * D * B * H);
      }
      let flow: number[][] | undefined;
      if (plan.recurrent.flow) {
        // dL/dh_t of (L, D, T, B, H_out) → ‖·‖ over directions and the batch, per layer and step.
        const raw = await readBuffer(this.ctx, 'Trainer.flow', plan.recurrent.flow, L * D * T * B * Hout);
        flow = Array.from({ length: L }, (_, l) =>
          Array.from({ length: T }, (_, t) => {
            let s = 0;
            for (let d = 0; d < D; d++) {
              const base = ((l * D + d) * T + t) * B * Hout;
              for (let i = 0; i < B * Hout; i++) s += raw[base + i] ** 2;
            }
            return Math.sqrt(s);
          }),
        );
      }
      return { loss: words[RESULT_SLOTS.loss], gradNorm: Math.sqrt(words[RESULT_SLOTS.normSq]), grads, h0, c0, flow };
    });
  }

  /** Continues `prompt` on the GPU (sample.ts): one submission, the generated tokens read back. */
  sample(prompt: Int32Array, o: ResolvedSample): Promise<number[]> {
    return this.enqueue(async () => {
      const rec = new OwningRecorder(this.ctx, 'Trainer.sample');
      let release = () => {};
      try {
        const recorded = recordSampling(rec, this.composition, this.shared, prompt.length, o);
        release = recorded.release;
        this.ctx.device.queue.writeBuffer(recorded.tokens, 0, Uint32Array.from([prompt.length, ...prompt]));
        await this.submit({ tag: 'Trainer.sample' }, recorded.commands);
        const all = new Uint32Array((await readBuffer(this.ctx, 'Trainer.sample', recorded.tokens, 1 + prompt.length + o.maxTokens)).buffer);
        return Array.from(all.subarray(1 + prompt.length));
      } finally {
        release();
        rec.release();
      }
    });
  }

  /** Decodes a source on the GPU (decode-gpu.ts): one submission, the record read back once. */
  decode(source: PreparedBatch & { rows: number }, o: ResolvedDecode): Promise<BeamRecord> {
    return this.enqueue(async () => {
      const rec = new OwningRecorder(this.ctx, 'Trainer.decode');
      let release = () => {};
      try {
        const recorded = recordDecode(rec, this.composition, this.shared, source, o);
        release = recorded.release;
        recorded.write();
        await this.submit({ tag: 'Trainer.decode' }, recorded.commands);
        const readF32 = (t: GpuTensor, n: number) => readBuffer(this.ctx, 'Trainer.decode', t.buffer, n);
        const readU32 = async (t: GpuTensor, n: number) => new Uint32Array((await readF32(t, n)).buffer);
        return await recorded.read(readU32, readF32);
      } finally {
        release();
        rec.release();
      }
    });
  }

  snapshot(): Promise<EngineSnapshot> {
    return this.enqueue(async () => {
      await this.readResults(); // a pending halt is reported (and the steps stepped back) first
      const n = this.composition.size;
      const read = (label: string, buffer: GPUBuffer, floats: number) => readBuffer(this.ctx, label, buffer, floats);
      const params = unpackParameters(this.composition, await read('Trainer.params', this.shared.params, n));
      const length = optimizerLength(n);
      const state = await read('Trainer.state', this.shared.state, 3 * length);
      const slot = (k: number) => unpackParameters(this.composition, state.slice(k * length, k * length + n));
      const carries: EngineSnapshot['carries'] = {};
      for (const [kind, held] of this.carries)
        carries[kind] = this.carryFromLayers(held.B, await read(`Trainer.carry.${kind}`, held.buffer, this.carryFloats(held.B)));
      return { steps: this.steps, params, state: { a: slot(0), b: slot(1), c: slot(2) }, carries };
    });
  }

  restore(s: EngineSnapshot): Promise<void> {
    return this.enqueue(async () => {
      const q = this.ctx.device.queue;
      const length = optimizerLength(this.composition.size);
      q.writeBuffer(this.shared.params, 0, packParameters(this.composition, s.params));
      const state = new Float32Array(3 * length);
      (['a', 'b', 'c'] as const).forEach((k, i) => state.set(packParameters(this.composition, s.state[k]), i * length));
      q.writeBuffer(this.shared.state, 0, state);
      q.writeBuffer(this.shared.results, 0, new Float32Array(RESULT_WORDS));
      this.steps = s.steps;
      for (const held of this.carries.values()) this.ctx.release(held.buffer);
      this.carries.clear();
      for (const [kind, held] of Object.entries(s.carries) as Array<[CarryKind, CarrySnapshot]>) {
        const buffer = this.ctx.buffer(`Trainer.carry.${kind}`, this.carryFloats(held.B) * 4, STORAGE_USAGE);
        q.writeBuffer(buffer, 0, this.carryToLayers(held));
        this.carries.set(kind, { B: held.B, buffer });
      }
    });
  }

  /** Floats of a carry: every layer's state. */
  private carryFloats(B: number): number {
    return this.composition.recurrent.config.num_layers * this.layerState(B);
  }

  /** A carry (per layer: h (D, B, H_out), then c (D, B, H)) into the h0 / c0 layout. */
  private carryFromLayers(B: number, flat: Float32Array): CarrySnapshot {
    const rnn = this.composition.recurrent.config;
    const hPer = numDirections(rnn) * B * outputSize(rnn);
    const cPer = rnn.mode === 'LSTM' ? numDirections(rnn) * B * rnn.hidden_size : 0;
    const h = new Float32Array(rnn.num_layers * hPer);
    const c = new Float32Array(rnn.num_layers * cPer);
    for (let l = 0; l < rnn.num_layers; l++) {
      const at = l * (hPer + cPer);
      h.set(flat.subarray(at, at + hPer), l * hPer);
      c.set(flat.subarray(at + hPer, at + hPer + cPer), l * cPer);
    }
    return { B, h, c: cPer > 0 ? c : undefined };
  }

  private carryToLayers(held: CarrySnapshot): Float32Array {
    const rnn = this.composition.recurrent.config;
    const hPer = numDirections(rnn) * held.B * outputSize(rnn);
    const cPer = rnn.mode === 'LSTM' ? numDirections(rnn) * held.B * rnn.hidden_size : 0;
    const flat = new Float32Array(this.carryFloats(held.B));
    for (let l = 0; l < rnn.num_layers; l++) {
      const at = l * (hPer + cPer);
      flat.set(held.h.subarray(l * hPer, (l + 1) * hPer), at);
      if (held.c) flat.set(held.c.subarray(l * cPer, (l + 1) * cPer), at + hPer);
    }
    return flat;
  }

  /** GPU bytes held in all (parameters, gradients, optimizer state, carries, every kept plan) and each plan's figures. */
  diagnostics(): EngineDiagnostics {
    const plans = [...this.plans.values()];
    const own = [...Object.values(this.shared), ...[...this.carries.values()].map((c) => c.buffer)].reduce((sum, b) => sum + b.size, 0);
    return {
      heldBytes: own + plans.reduce((sum, p) => sum + p.heldBytes, 0),
      strategy: this.backward,
      plans: plans.map((p) => ({ T: p.T, B: p.B, activationBytes: p.activationBytes, dispatches: p.dispatches, tablesTaken: p.tablesTaken, gemms: p.gemms })),
    };
  }

  /** The current parameters by state_dict name. */
  parameters(): Promise<Record<string, Float32Array>> {
    return this.enqueue(async () =>
      unpackParameters(this.composition, await readBuffer(this.ctx, 'Trainer.params', this.shared.params, this.composition.size)),
    );
  }

  destroy(): Promise<void> {
    if (this.destroyed) return Promise.resolve();
    this.destroyed = true;
    const done = this.queue.then(() => {
      for (const plan of this.plans.values()) plan.release();
      this.plans.clear();
      for (const b of Object.values(this.shared)) this.ctx.discard(b);
      this.penalty?.recorder.release();
      for (const c of this.carries.values()) this.ctx.release(c.buffer);
      this.carries.clear();
      this.ctx.detach();
    });
    return done.catch(() => undefined);
  }
}
