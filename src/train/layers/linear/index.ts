/**
 * nn.Linear(in_features, out_features, bias) as a layer on the rows of one value: y = x·Wᵀ + b, with
 * parameters `<name>.weight` (O, F) and `<name>.bias` (O). The model's head is one, on every step of
 * the recurrent output (`rnn.output`, T·B rows) or on cat(h_n[−D:]) (`rnn.last`, B rows). Initialised
 * as PyTorch's nn.Linear, U(±1/√fan_in), or xavier / kaiming with zero biases. On the GPU the forward
 * and the three gradients (dW = dyᵀ·x, db = 1ᵀ·dy, dx = dy·W) are GEMMs.
 */
import { recordGemm, recordGemmPeeled } from '../../../gpu/ops/gemm.js';
import type { Command } from '../../../gpu/program.js';
import type { FlatSection, GpuLayer, InitDraws, ParamSpec, PlanContext, ReferenceContext, TrainLayer } from '../layer.js';
import { plainSection } from '../section.js';

export interface LinearConfig {
  readonly in_features: number;
  readonly out_features: number;
  readonly bias: boolean;
}

export class LinearLayer implements TrainLayer<{ x: ArrayLike<number>; rows: number }> {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];

  constructor(
    readonly name: string,
    readonly config: LinearConfig,
    input: string,
  ) {
    this.inputs = [input];
    this.outputs = [`${name}.output`];
  }

  parameters(): ParamSpec[] {
    const { in_features: F, out_features: O } = this.config;
    return [{ name: `${this.name}.weight`, shape: [O, F] }, ...(this.config.bias ? [{ name: `${this.name}.bias`, shape: [O] }] : [])];
  }

  initialise(draws: InitDraws): Record<string, Float64Array> {
    const { in_features: fanIn, out_features: fanOut } = this.config;
    const out: Record<string, Float64Array> = {};
    for (const spec of this.parameters()) {
      const isBias = spec.shape.length === 1;
      const n = spec.shape.reduce((a, b) => a * b, 1);
      // nn.Linear: fan_in for the weight and the bias alike; the other schemes zero the bias.
      const bound =
        draws.scheme === 'default' || isBias ? 1 / Math.sqrt(fanIn) : draws.scheme === 'xavier' ? Math.sqrt(6 / (fanIn + fanOut)) : Math.sqrt(6 / fanIn);
      out[spec.name] = Float64Array.from({ length: n }, () => (draws.scheme !== 'default' && isBias ? 0 : draws.uniform(bound)));
    }
    return out;
  }

  section(start: number): FlatSection {
    return plainSection(start, this.parameters());
  }

  referenceForward(inputs: ReadonlyArray<ArrayLike<number>>, ctx: ReferenceContext) {
    const { in_features: F, out_features: O } = this.config;
    const x = inputs[0];
    const rows = x.length / F;
    const W = ctx.params[`${this.name}.weight`];
    const bias = ctx.params[`${this.name}.bias`];
    const y = new Float64Array(rows * O);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < O; o++) {
        let acc = bias ? bias[o] : 0;
        for (let k = 0; k < F; k++) acc += W[o * F + k] * x[r * F + k];
        y[r * O + o] = acc;
      }
    }
    return { outputs: [y], cache: { x, rows } };
  }

  referenceBackward(
    cache: { x: ArrayLike<number>; rows: number },
    dOutputs: ReadonlyArray<Float64Array | undefined>,
    grads: Record<string, Float64Array>,
    ctx: ReferenceContext,
  ) {
    const { in_features: F, out_features: O } = this.config;
    const dy = dOutputs[0];
    const dx = new Float64Array(cache.rows * F);
    if (!dy) return [dx];
    const W = ctx.params[`${this.name}.weight`];
    const gW = grads[`${this.name}.weight`];
    const gb = grads[`${this.name}.bias`];
    for (let r = 0; r < cache.rows; r++) {
      for (let o = 0; o < O; o++) {
        const g = dy[r * O + o];
        if (g === 0) continue;
        if (gb) gb[o] += g;
        for (let k = 0; k < F; k++) {
          gW[o * F + k] += g * cache.x[r * F + k];
          dx[r * F + k] += g * W[o * F + k];
        }
      }
    }
    return [dx];
  }

  gpu(plan: PlanContext, section: FlatSection & { offsets?: Record<string, number> }): GpuLayer {
    const { in_features: F, out_features: O } = this.config;
    const at = (name: string) => (section as ReturnType<typeof plainSection>).offsets[`${this.name}.${name}`];
    const weight = { ...plan.params, offset: at('weight'), shape: [O, F] };
    const bias = this.config.bias ? { ...plan.params, offset: at('bias'), shape: [O] } : undefined;
    let x = plan.params;
    let rows = 0;
    return {
      forward: (inputs) => {
        x = inputs[0];
        rows = x.shape[0];
        const y = plan.tensor(`${this.name}.output`, rows * O, [rows, O], 'activation');
        // On a software adapter a last column or few may go to a call of their own (gemmEdgeColumns).
        const commands = recordGemmPeeled(plan, {
          label: `${this.name}.forward`,
          M: rows,
          N: O,
          K: F,
          batch: 1,
          transB: true,
          a: x,
          aBatchStride: 0,
          b: weight,
          bBatchStride: 0,
          bias,
          biasBatchStride: 0,
          c: y,
          cBatchStride: 0,
          format: 'f32',
        });
        return { outputs: [y], commands };
      },
      backward: (dOutputs, dInputs) => {
        const dy = dOutputs[0];
        if (!dy) return [];
        const commands: Command[] = [
          recordGemm(plan, {
            label: `${this.name}.dW`,
            M: O,
            N: F,
            K: rows,
            batch: 1,
            transA: true,
            a: dy,
            aBatchStride: 0,
            b: x,
            bBatchStride: 0,
            c: { ...plan.grads, offset: at('weight'), shape: [O, F] },
            cBatchStride: 0,
            format: 'f32',
          }),
        ];
        if (bias) {
          commands.push(
            recordGemm(plan, {
              label: `${this.name}.db`,
              M: 1,
              N: O,
              K: rows,
              batch: 1,
              a: plan.ones(rows),
              aBatchStride: 0,
              b: dy,
              bBatchStride: 0,
              c: { ...plan.grads, offset: at('bias'), shape: [O] },
              cBatchStride: 0,
              format: 'f32',
            }),
          );
        }
        if (dInputs[0]) {
          commands.push(
            recordGemm(plan, {
              label: `${this.name}.dX`,
              M: rows,
              N: F,
              K: O,
              batch: 1,
              a: dy,
              aBatchStride: 0,
              b: weight,
              bBatchStride: 0,
              c: dInputs[0],
              cBatchStride: 0,
              format: 'f32',
            }),
          );
        }
        return commands;
      },
    };
  }
}
