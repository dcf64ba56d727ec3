/**
 * The "copy" bridge of an encoder–decoder: the decoder's layer l starts from cat_d h_n[l·D + d] of
 * the encoder's layer l, its directions side by side (and the same for c, LSTM). No parameters. Values
 * are whole states (the recurrent layer's joinStateValue: per layer h then c); the decoder's has D = 1
 * and D× the width.
 */
import type { RnnConfig } from '../../../config.js';
import { numDirections, outputSize } from '../../../config.js';
import { type GpuTensor, gpuTensor } from '../../../gpu/gpu-tensor.js';
import { recordGatherLast, recordScatterLast } from '../../../gpu/ops/last-state.js';
import type { Command } from '../../../gpu/program.js';
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
  /** Each part of each layer: its width and its float offset in both states (the same on both sides). */
  private parts(B: number): Array<{ W: number; base: number }> {
    const D = numDirections(this.encoder);
    const widths = [outputSize(this.encoder), ...(this.encoder.mode === 'LSTM' ? [this.encoder.hidden_size] : [])];
    const out: Array<{ W: number; base: number }> = [];
    let base = 0;
    for (let l = 0; l < this.encoder.num_layers; l++) {
      for (const W of widths) {
        out.push({ W, base });
        base += D * B * W;
      }
    }
    return out;
  }

  private map(state: ArrayLike<number>, B: number, into: Float64Array, back: boolean): void {
    const D = numDirections(this.encoder);
    for (const { W, base } of this.parts(B)) {
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

  gpu(plan: PlanContext, _section: FlatSection): GpuLayer {
    const { B } = plan;
    const D = numDirections(this.encoder);
    const parts = this.parts(B);
    // The encoder's state (D, B, W) per part ⇄ the decoder's (B, D·W), at the part's offset in both.
    const record = (encoder: GpuTensor, decoder: GpuTensor, back: boolean): Command[] =>
      parts.map(({ W, base }, i) => {
        const call = {
          label: `${this.name}.${back ? 'back' : 'forward'}${i}`,
          B,
          Hout: W,
          D,
          state: gpuTensor(encoder.buffer, [D * B * W], 'f32', encoder.offset + base),
          features: gpuTensor(decoder.buffer, [B, D * W], 'f32', decoder.offset + base),
        };
        return back ? recordScatterLast(plan, call) : recordGatherLast(plan, call);
      });
    return {
      forward: (inputs) => {
        const n = inputs[0].shape.reduce((a, b) => a * b, 1);
        const out = plan.tensor(`${this.name}.initial`, n, [n], 'work');
        return { outputs: [out], commands: record(inputs[0], out, false) };
      },
      backward: (dOutputs, dInputs) => (dOutputs[0] && dInputs[0] ? record(dInputs[0], dOutputs[0], true) : []),
    };
  }
}
