/**
 * Training on WebGPU: the parameters, their gradients and the optimizer's state in three flat GPU
 * buffers (layout.ts), a training plan per batch shape (gpu-plan.ts, at most a few kept), and the host
 * side of a step — writing the batch, the step's scalars (loss scale, learning rate, bias corrections,
 * dropout seeds) and replaying the plan's commands in one submission. Calls run one at a time, in
 * order (a promise chain), as the inference engine's do.
 */
import type { RnnConfig } from '../config.js';
import { RnnError, describeValue } from '../errors.js';
import { BACKWARD_STRATEGIES, type BackwardStrategy, backwardUnfit } from '../gpu/ops/backward.js';
import type { GpuContext } from '../gpu/context.js';
import { STORAGE_USAGE, UNIFORM_USAGE } from '../gpu/constants.js';
import { type Command, type Recorder, replay } from '../gpu/program.js';
import { readBuffer } from '../gpu/readback.js';
import { DROPOUT_DIMS_FIELDS, EMBEDDING_DIMS_FIELDS, LOSS_DIMS_FIELDS, REDUCE_DIMS_FIELDS, packU32Struct } from '../gpu/uniforms.js';
import { IGNORE_INDEX, type PreparedBatch } from './batch.js';
import { type ModelConfig, outputFeatures } from './config.js';
import { type FlatLayout, flatLayout, pack, unpack } from './layout.js';
import { type OptimizerConfig, learningRate } from './optim.js';
import { type SharedBuffers, TrainPlan } from './gpu-plan.js';
import { type ResolvedSample, recordSampling } from './sample.js';
import { numDirections, outputSize } from '../config.js';

const MAX_PLANS = 3;

/**
 * The strategy of a training step's recurrence: forced (an error naming why when it cannot run the
 * model, or with a batch size and limits that shape), or 'auto' — the first that can run it of
 * persistent (one dispatch per layer, forward and backward), fused (one per step), per-step.
 */
export function chooseBackward(config: RnnConfig, strategy: BackwardStrategy | 'auto', B?: number, limits?: GPUSupportedLimits): BackwardStrategy {
  if (strategy === 'auto') return (['persistent', 'fused', 'per-step'] as const).find((s) => !backwardUnfit(s, config, B, limits))!;
  if (!BACKWARD_STRATEGIES.includes(strategy)) throw new RnnError('OPTION_INVALID', `createTrainer options.strategy: expected "auto" or one of ${BACKWARD_STRATEGIES.map((x) => `"${x}"`).join(', ')}, got ${describeValue(strategy)}`);
  const unfit = backwardUnfit(strategy, config, B, limits);
  if (unfit) throw new RnnError('OPTION_INVALID', `createTrainer options.strategy "${strategy}": ${unfit}`);
  return strategy;
}

export interface GpuStepResult {
  loss?: number;
  gradNorm?: number;
}

export class GpuTrainer {
  readonly layout: FlatLayout;
  private readonly shared: SharedBuffers;
  private readonly plans = new Map<string, TrainPlan>();
  private queue: Promise<unknown> = Promise.resolve();
  private destroyed = false;
  /** Optimizer steps taken (the next one is steps + 1). */
  steps = 0;

  /** The strategy asked for ('auto': each plan takes the fastest that fits its shape, chooseBackward). */
  private readonly strategy: BackwardStrategy | 'auto';
  /** The strategy of the plan used last. */
  backward: BackwardStrategy;

  constructor(readonly ctx: GpuContext, readonly model: ModelConfig, params: Readonly<Record<string, ArrayLike<number>>>, readonly seed = 0, strategy: BackwardStrategy | 'auto' = 'auto') {
    this.strategy = strategy;
    this.backward = chooseBackward(model.rnn, strategy);
    this.layout = flatLayout(model);
    const n = this.layout.size;
    const limit = Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize);
    if (3 * n * 4 > limit) throw new RnnError('LIMIT_EXCEEDED', `the model's ${n} parameters need ${3 * n * 4} bytes of optimizer state, above the device's ${limit} for one binding`);
    this.shared = {
      params: ctx.storageFrom('Trainer.params', pack(model, this.layout, params)),
      grads: ctx.storageFrom('Trainer.grads', new Float32Array(n)),
      state: ctx.storageFrom('Trainer.state', new Float32Array(3 * n)),
      results: ctx.storageFrom('Trainer.results', new Float32Array(4)),
    };
    ctx.attach();
  }

  private enqueue<R>(work: () => Promise<R> | R): Promise<R> {
    if (this.destroyed) return Promise.reject(new RnnError('DESTROYED', 'trainer: used after destroy()'));
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private plan(T: number, B: number, withFlow: boolean): TrainPlan {
    const key = `${T}x${B}${withFlow ? ':flow' : ''}`;
    let plan = this.plans.get(key);
    if (plan) {
      this.plans.delete(key);
    } else {
      plan = new TrainPlan(this.ctx, this.model, this.layout, this.shared, T, B, withFlow, chooseBackward(this.model.rnn, this.strategy, B, this.ctx.limits));
      if (this.plans.size >= MAX_PLANS) {
        const [oldestKey, oldest] = this.plans.entries().next().value!;
        this.plans.delete(oldestKey);
        oldest.release();
      }
    }
    this.plans.set(key, plan);
    this.backward = plan.backwardStrategy;
    return plan;
  }

  /** Writes a batch and the step's scalars into a plan's buffers. */
  private write(plan: TrainPlan, batch: PreparedBatch, stepSeed: number, clipValue: number, training: boolean, carry: boolean): void {
    const q = this.ctx.device.queue;
    const { model } = this;
    const rnn = model.rnn;
    const { T, B } = batch;
    if (plan.inputs.x) q.writeBuffer(plan.inputs.x, 0, Float32Array.from(batch.x!));
    if (plan.inputs.tokens) {
      q.writeBuffer(plan.inputs.tokens, 0, Uint32Array.from(batch.tokens!));
      // The embedding gradient's grouping: positions sorted by token, one group per distinct token.
      const order = Array.from({ length: T * B }, (_, i) => i).sort((a, b) => batch.tokens![a] - batch.tokens![b] || a - b);
      const ids: number[] = [];
      const starts: number[] = [];
      order.forEach((pos, k) => {
        if (k === 0 || batch.tokens![pos] !== batch.tokens![order[k - 1]]) {
          ids.push(batch.tokens![pos]);
          starts.push(k);
        }
      });
      starts.push(order.length);
      q.writeBuffer(plan.inputs.csr!, 0, Uint32Array.from([...ids, ...starts, ...order]));
      q.writeBuffer(plan.embeddingDims!.buffer, 0, packU32Struct(EMBEDDING_DIMS_FIELDS, { rows: ids.length, E: model.embedding!.embedding_dim, table: this.layout.embedding!, first: 0 }));
    }
    q.writeBuffer(plan.inputs.lengths, 0, Uint32Array.from(batch.lengths ?? new Int32Array(B).fill(T)));
    const O = outputFeatures(model);
    const rows = batch.target.length / (model.loss === 'mse' ? O : 1);
    if (model.loss === 'mse') {
      q.writeBuffer(plan.inputs.target, 0, Float32Array.from(batch.target));
      q.writeBuffer(plan.lossDims.buffer, 0, packU32Struct(LOSS_DIMS_FIELDS, { rows, O, scale: 1 / batch.target.length }));
    } else {
      q.writeBuffer(plan.inputs.target, 0, Int32Array.from(batch.target));
      let counted = 0;
      for (const c of batch.target) if (c !== IGNORE_INDEX) counted++;
      // No target left: PyTorch's mean is 0/0 = NaN; 1/0 makes every row's share Inf·0 = NaN alike.
      q.writeBuffer(plan.lossDims.buffer, 0, packU32Struct(LOSS_DIMS_FIELDS, { rows, O, scale: 1 / counted }));
    }
    // Initial states: h0 / c0 or zeros, per layer in the state layout.
    const D = numDirections(rnn);
    const Hout = outputSize(rnn);
    const H = rnn.hidden_size;
    const hPer = D * B * Hout;
    const cPer = rnn.mode === 'LSTM' ? D * B * H : 0;
    if (!carry) {
      plan.inputs.initial.forEach((buffer, l) => {
        const s = new Float32Array(hPer + cPer);
        if (batch.h0) s.set(batch.h0.subarray(l * hPer, (l + 1) * hPer));
        if (batch.c0) s.set(batch.c0.subarray(l * cPer, (l + 1) * cPer), hPer);
        q.writeBuffer(buffer, 0, s);
      });
    }
    // Dropout: n and the stream (the layer) were written at build; the seed changes step to step, and
    // evaluation (training false) drops nothing.
    for (const dims of plan.dropoutDims) {
      q.writeBuffer(dims.buffer, 4 * DROPOUT_DIMS_FIELDS.indexOf('seed'), Uint32Array.of(stepSeed >>> 0));
      q.writeBuffer(dims.buffer, 4 * DROPOUT_DIMS_FIELDS.indexOf('p'), Float32Array.of(training ? rnn.dropout : 0));
    }
    q.writeBuffer(plan.normDims.buffer, 0, packU32Struct(REDUCE_DIMS_FIELDS, { n: this.layout.size, offset: 0, out: 0, clip: clipValue }));
  }

  /** Replays `commands`, reading back [loss, ‖g‖²] when asked. */
  private async submit(plan: Pick<TrainPlan, 'tag'>, commands: Command[], read: boolean): Promise<GpuStepResult> {
    const device = this.ctx.device;
    this.ctx.checkAlive();
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder({ label: plan.tag });
    replay(encoder, commands, plan.tag);
    device.queue.submit([encoder.finish()]);
    const error = await device.popErrorScope().catch(() => null);
    if (error) throw new RnnError('GPU_VALIDATION', `WebGPU validation error in ${plan.tag}: ${error.message}`);
    if (!read) return {};
    const [loss, normSq] = await readBuffer(this.ctx, 'Trainer.results', this.shared.results, 2);
    return { loss, gradNorm: Math.sqrt(normSq) };
  }

  /**
   * One training step (forward, loss, backward, clipping, update); the loss read back only with `read`.
   * With `carry` the step starts from the previous step's final state (same batch shape), detached.
   */
  step(batch: PreparedBatch, opt: OptimizerConfig, read: boolean, carry = false): Promise<GpuStepResult> {
    return this.enqueue(async () => {
      const plan = this.plan(batch.T, batch.B, false);
      const step = this.steps + 1;
      this.write(plan, batch, this.seed + this.steps, opt.clip_grad_value ?? 0, true, carry);
      const commands = [...(carry ? plan.carry : []), ...plan.forward, ...plan.backward, ...plan.update(opt, step, learningRate(opt, this.steps))];
      const result = await this.submit(plan, commands, read);
      this.steps = step;
      return result;
    });
  }

  /** The loss alone, in evaluation mode (no dropout, no update). */
  evaluate(batch: PreparedBatch, carry = false): Promise<number> {
    return this.enqueue(async () => {
      const plan = this.plan(batch.T, batch.B, false);
      this.write(plan, batch, this.seed + this.steps, 0, false, carry);
      return (await this.submit(plan, [...(carry ? plan.carry : []), ...plan.forward], true)).loss!;
    });
  }

  /** The model's output (evaluation mode), time-major: (T·B or B rows, O). */
  predict(batch: PreparedBatch, carry = false): Promise<Float32Array> {
    return this.enqueue(async () => {
      const plan = this.plan(batch.T, batch.B, false);
      this.write(plan, batch, this.seed + this.steps, 0, false, carry);
      await this.submit(plan, [...(carry ? plan.carry : []), ...plan.forward], false);
      return readBuffer(this.ctx, 'Trainer.prediction', plan.prediction.buffer, plan.prediction.elements);
    });
  }

  /** Forward and backward without an update: the loss, ‖g‖, every gradient (and dL/dh0, dL/dc0, dL/dh_t when asked). */
  gradients(batch: PreparedBatch, withFlow = false): Promise<GpuStepResult & { grads: Record<string, Float32Array>; initial: Float32Array; flow?: Float32Array }> {
    return this.enqueue(async () => {
      const plan = this.plan(batch.T, batch.B, withFlow);
      this.write(plan, batch, this.seed + this.steps, 0, true, false);
      const result = await this.submit(plan, [...plan.forward, ...plan.backward], true);
      const grads = unpack(this.model, this.layout, await readBuffer(this.ctx, 'Trainer.grads', this.shared.grads, this.layout.size));
      const rnn = this.model.rnn;
      const layerState = numDirections(rnn) * batch.B * (outputSize(rnn) + (rnn.mode === 'LSTM' ? rnn.hidden_size : 0));
      const initial = await readBuffer(this.ctx, 'Trainer.initialGrads', plan.initialGrads, rnn.num_layers * layerState);
      const flow = plan.flow ? await readBuffer(this.ctx, 'Trainer.flow', plan.flow, rnn.num_layers * numDirections(rnn) * batch.T * batch.B * outputSize(rnn)) : undefined;
      return { ...result, grads, initial, flow };
    });
  }

  /** Continues `prompt` on the GPU (sample.ts): one submission, the generated tokens read back. */
  sample(prompt: Int32Array, o: ResolvedSample): Promise<number[]> {
    return this.enqueue(async () => {
      const owned: GPUBuffer[] = [];
      const storage = (label: string, n: number, usage: number = STORAGE_USAGE) => {
        const b = this.ctx.buffer(label, Math.max(1, n) * 4, usage);
        owned.push(b);
        return b;
      };
      const rec: Recorder = {
        ctx: this.ctx,
        storage,
        uniform: (label, data) => {
          const buffer = storage(label, data.length, UNIFORM_USAGE);
          this.ctx.device.queue.writeBuffer(buffer, 0, data);
          return { buffer, offset: 0, size: data.byteLength };
        },
      };
      try {
        const { commands, tokens } = recordSampling(rec, this.model, this.layout, this.shared.params, prompt.length, o);
        this.ctx.device.queue.writeBuffer(tokens, 0, Uint32Array.from([prompt.length, ...prompt]));
        await this.submit({ tag: 'Trainer.sample' }, commands, false);
        const all = new Uint32Array((await readBuffer(this.ctx, 'Trainer.sample', tokens, 1 + prompt.length + o.maxTokens)).buffer);
        return Array.from(all.subarray(1 + prompt.length));
      } finally {
        for (const b of owned) this.ctx.release(b);
      }
    });
  }

  /** GPU bytes held in all (parameters, gradients, optimizer state, every kept plan) and each plan's figures. */
  diagnostics(): { heldBytes: number; plans: Array<{ T: number; B: number; heldBytes: number; activationBytes: number; dispatches: { total: number; perLayer: number[] } }> } {
    const plans = [...this.plans.values()].map((p) => ({ T: p.T, B: p.B, heldBytes: p.heldBytes, activationBytes: p.activationBytes, dispatches: p.dispatches }));
    const shared = Object.values(this.shared).reduce((sum, b) => sum + b.size, 0);
    return { heldBytes: shared + plans.reduce((sum, p) => sum + p.heldBytes, 0), plans };
  }

  /** The current parameters by state_dict name. */
  parameters(): Promise<Record<string, Float32Array>> {
    return this.enqueue(async () => unpack(this.model, this.layout, await readBuffer(this.ctx, 'Trainer.params', this.shared.params, this.layout.size)));
  }

  destroy(): Promise<void> {
    if (this.destroyed) return Promise.resolve();
    this.destroyed = true;
    const done = this.queue.then(() => {
      for (const plan of this.plans.values()) plan.release();
      this.plans.clear();
      for (const b of Object.values(this.shared)) this.ctx.discard(b);
      this.ctx.detach();
    });
    return done.catch(() => undefined);
  }
}
