/**
 * The CPU backend: the float64 reference behind the public API. It is the test oracle, and a fallback
 * where WebGPU is missing. Streams keep their state as float64 arrays on the host. Every call runs to
 * completion when it is made (the reference is synchronous), so calls are ordered by construction.
 */
import type { RnnConfig } from '../config.js';
import { numDirections, outputSize } from '../config.js';
import { RnnError } from '../errors.js';
import {
  type ForwardOptions,
  type ForwardResult,
  type PreparedInputs,
  type PushOptions,
  formatOutput,
  formatState,
  prepareChunk,
  prepareInputs,
  prepareStreamOptions,
  prepareStreamState,
} from '../inputs.js';
import type { Weights } from '../params.js';
import { referenceForward } from '../reference/forward.js';
import type { Rnn, RnnStream, StreamOptions, StreamState } from '../api.js';
import type { Tensor, TensorData } from '../tensor.js';

export class CpuRnn implements Rnn {
  readonly backend = 'cpu' as const;
  private destroyed = false;

  constructor(
    readonly config: RnnConfig,
    private readonly weights: Weights,
    readonly checkFinite = false,
  ) {}

  async forward(input: Tensor, options: ForwardOptions = {}): Promise<ForwardResult> {
    this.checkAlive();
    const prepared = prepareInputs(this.config, input, options, this.checkFinite);
    const r = referenceForward(this.config, this.weights, prepared);
    return { output: formatOutput(this.config, prepared, r.output), ...formatState(this.config, prepared, r.hN, r.cN) };
  }

  /** Runs prepared inputs (used by streams, which supply their own state). */
  run(prepared: PreparedInputs) {
    this.checkAlive();
    return referenceForward(this.config, this.weights, prepared);
  }

  checkAlive(): void {
    if (this.destroyed) throw new RnnError('DESTROYED', 'the model was destroyed');
  }

  stream(options: StreamOptions = {}): RnnStream {
    this.checkAlive();
    const { batch, h0, c0 } = prepareStreamOptions(this.config, options, this.checkFinite);
    return new CpuStream(this, batch, h0, c0);
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
  }
}

class CpuStream implements RnnStream {
  private h!: Float64Array; // (L, B, H_out)
  private c!: Float64Array; // (L, B, H)
  private closed = false;

  constructor(
    private readonly model: CpuRnn,
    readonly batch: number,
    h0: TensorData | undefined,
    c0: TensorData | undefined,
  ) {
    this.setState(h0, c0);
  }

  private checkOpen(): void {
    if (this.closed) throw new RnnError('DESTROYED', 'stream: the stream was closed');
    this.model.checkAlive();
  }

  private setState(h0: TensorData | undefined, c0: TensorData | undefined): void {
    const { config } = this.model;
    const L = config.num_layers * numDirections(config);
    this.h = h0 ? Float64Array.from(h0) : new Float64Array(L * this.batch * outputSize(config));
    this.c = c0 ? Float64Array.from(c0) : new Float64Array(L * this.batch * config.hidden_size);
  }

  reset(state: StreamState = {}): void {
    this.checkOpen();
    const { h0, c0 } = prepareStreamState(this.model.config, this.batch, state, this.model.checkFinite);
    this.setState(h0, c0);
  }

  async push(chunk: Tensor, options: PushOptions = {}): Promise<Tensor | undefined> {
    this.checkOpen();
    const { config } = this.model;
    const prepared = prepareChunk(config, this.batch, chunk, options, this.model.checkFinite);
    const r = this.model.run({ ...prepared, h0: this.h, c0: this.c });
    this.h = r.hN;
    if (r.cN) this.c = r.cN;
    return prepared.read ? formatOutput(config, prepared, r.output) : undefined;
  }

  async state() {
    this.checkOpen();
    const cN: TensorData | undefined = this.model.config.mode === 'LSTM' ? this.c.slice() : undefined;
    return formatState(this.model.config, { B: this.batch, unbatched: false }, this.h.slice(), cN);
  }

  close(): void {
    this.closed = true;
  }
}
