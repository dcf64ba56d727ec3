/**
 * The CPU backend: the float64 reference behind the public API. It is the test oracle, and a fallback
 * where WebGPU is missing. Streams keep their state as float64 arrays on the host.
 */
import type { RnnConfig } from '../config.js';
import { numDirections, outputSize } from '../config.js';
import {
  type ForwardOptions, type ForwardResult, type PreparedInputs, formatOutput, formatState,
  prepareChunk, prepareInputs, prepareStreamState,
} from '../inputs.js';
import type { Weights } from '../params.js';
import { referenceForward } from '../reference/forward.js';
import type { Rnn, RnnStream, StreamOptions, StreamState } from '../rnn.js';
import type { Tensor, TensorData } from '../tensor.js';

export class CpuRnn implements Rnn {
  readonly backend = 'cpu' as const;

  constructor(readonly config: RnnConfig, private readonly weights: Weights) {}

  async forward(input: Tensor, options: ForwardOptions = {}): Promise<ForwardResult> {
    const prepared = prepareInputs(this.config, input, options);
    const r = referenceForward(this.config, this.weights, prepared);
    return { output: formatOutput(this.config, prepared, r.output), ...formatState(this.config, prepared, r.hN, r.cN) };
  }

  /** Runs prepared inputs (used by streams, which supply their own state). */
  run(prepared: PreparedInputs) {
    return referenceForward(this.config, this.weights, prepared);
  }

  stream(options: StreamOptions = {}): RnnStream {
    return new CpuStream(this, options.batch ?? 1, options);
  }

  destroy(): void {}
}

class CpuStream implements RnnStream {
  private h!: Float64Array; // (L, B, H_out)
  private c!: Float64Array; // (L, B, H)

  constructor(private readonly model: CpuRnn, readonly batch: number, state: StreamState) {
    this.reset(state);
  }

  reset(state: StreamState = {}): void {
    const { config } = this.model;
    const { h0, c0 } = prepareStreamState(config, this.batch, state);
    const L = config.num_layers * numDirections(config);
    this.h = h0 ? Float64Array.from(h0) : new Float64Array(L * this.batch * outputSize(config));
    this.c = c0 ? Float64Array.from(c0) : new Float64Array(L * this.batch * config.hidden_size);
  }

  async push(chunk: Tensor, options: { lengths?: ForwardOptions['lengths']; read?: boolean } = {}): Promise<Tensor | undefined> {
    const { config } = this.model;
    const prepared = prepareChunk(config, this.batch, chunk, options.lengths);
    const r = this.model.run({ ...prepared, h0: this.h, c0: this.c });
    this.h = r.hN;
    if (r.cN) this.c = r.cN;
    return options.read === false ? undefined : formatOutput(config, prepared, r.output);
  }

  async state() {
    const cN: TensorData | undefined = this.model.config.mode === 'LSTM' ? this.c.slice() : undefined;
    return formatState(this.model.config, { B: this.batch, unbatched: false }, this.h.slice(), cN);
  }

  close(): void {}
}
