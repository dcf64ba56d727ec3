/**
 * The "copy" bridge of an encoder–decoder: the decoder's layer l starts from cat_d h_n[l·D + d] of
 * the encoder's layer l, its directions side by side (and the same for c, LSTM). No parameters. Values
 * are whole states (the recurrent layer's joinStateValue: per layer h then c); the decoder's has D = 1
 * and D× the width.
 */
import type { RnnConfig } from '../../../config.js';
import { numDirections, outputSize } from '../../../config.js';
import type { FlatSection, GpuLayer, InitDraws, ParamSpec, PlanContext, ReferenceContext, TrainLayer } from '../layer.js';
import { plainSection } from '../section.js';

export class BridgeLayer implements TrainLayer<null> {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];

  constructor(
    readonly name: string,
    readonly encoder: RnnConfig,
    input: string,
  ) {
    this.inputs = [input];
    this.outputs = [`${name}.initial`];
  }

  parameters(): ParamSpec[] {
    return [];
  }

  initialise(_draws: InitDraws): Record<string, Float64Array> {
    return {};
  }

  section(start: number): FlatSection {
    return plainSection(start, []);
  }

  /**
   * Moves element (d, b, k) of each part (h, then c) of each layer's encoder state — (D, B, W) — to
   * (b, d·W + k) of the decoder's — (1, B, D·W) — or back. Both states are the per-layer layout
   * (joinStateValue): the parts of a layer are the same sizes on both sides.
   */
  private map(state: ArrayLike<number>, B: number, into: Float64Array, back: boolean): void {
    const L = this.encoder.num_layers;
    const D = numDirections(this.encoder);
    const widths = [outputSize(this.encoder), ...(this.encoder.mode === 'LSTM' ? [this.encoder.hidden_size] : [])];
    let base = 0;
    for (let l = 0; l < L; l++) {
      for (const W of widths) {
        for (let d = 0; d < D; d++) {
          for (let b = 0; b < B; b++) {
            for (let k = 0; k < W; k++) {
              const enc = base + (d * B + b) * W + k;
              const dec = base + b * D * W + d * W + k;
              if (back) into[enc] = state[dec];
              else into[dec] = state[enc];
            }
          }
        }
        base += D * B * W;
      }
    }
  }

  referenceForward(inputs: ReadonlyArray<ArrayLike<number>>, ctx: ReferenceContext) {
    const out = new Float64Array(inputs[0].length);
    this.map(inputs[0], ctx.batch.B, out, false);
    return { outputs: [out], cache: null };
  }

  referenceBackward(_cache: null, dOutputs: ReadonlyArray<Float64Array | undefined>, _grads: Record<string, Float64Array>, ctx: ReferenceContext) {
    const d = dOutputs[0];
    if (!d) return [undefined];
    const out = new Float64Array(d.length);
    this.map(d, ctx.batch.B, out, true);
    return [out];
  }

  gpu(_plan: PlanContext, _section: FlatSection): GpuLayer {
    throw new Error('the bridge has no GPU records yet');
  }
}
