/**
 * nn.Embedding(num_embeddings, embedding_dim) as a layer: token ids (`tokens`, T·B) → their rows of
 * the table (`embedding.output`, (T·B, E)). Parameter `embedding.weight` (V, E), initialised N(0, 1)
 * as PyTorch's. The gradient of the table sums dL/dx over the positions of each token, in a fixed
 * order on the GPU (no float atomics: the embedding op groups positions on the host).
 */
import { embeddingGatherReference, embeddingGradReference, recordEmbeddingGather, recordEmbeddingGrad } from '../../../gpu/ops/embedding.js';
import type { GpuTensor } from '../../../gpu/gpu-tensor.js';
import type { Command } from '../../../gpu/program.js';
import type { PreparedBatch } from '../../batch.js';
import type { FlatSection, GpuLayer, InitDraws, ParamSpec, PlanContext, ReferenceContext, TableLookup, TrainLayer } from '../layer.js';
import { plainSection } from '../section.js';

export interface EmbeddingConfig {
  readonly num_embeddings: number;
  readonly embedding_dim: number;
}

export class EmbeddingLayer implements TrainLayer<null> {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];

  constructor(
    readonly name: string,
    readonly config: EmbeddingConfig,
    /** The value of ids it reads: the batch's `tokens`, or an encoder–decoder's `source` / `target_in`. */
    input = 'tokens',
  ) {
    this.inputs = [input];
    this.outputs = [`${name}.output`];
  }

  private get weight(): string {
    return `${this.name}.weight`;
  }

  parameters(): ParamSpec[] {
    return [{ name: this.weight, shape: [this.config.num_embeddings, this.config.embedding_dim] }];
  }

  initialise(draws: InitDraws): Record<string, Float64Array> {
    return { [this.weight]: Float64Array.from({ length: this.config.num_embeddings * this.config.embedding_dim }, () => draws.gauss()) };
  }

  section(start: number): FlatSection {
    return plainSection(start, this.parameters());
  }

  referenceForward(inputs: ReadonlyArray<ArrayLike<number>>, ctx: ReferenceContext) {
    return { outputs: [embeddingGatherReference(ctx.params[this.weight], inputs[0], this.config.embedding_dim)], cache: null };
  }

  referenceBackward(_cache: null, dOutputs: ReadonlyArray<Float64Array | undefined>, grads: Record<string, Float64Array>, ctx: ReferenceContext) {
    const { num_embeddings: V, embedding_dim: E } = this.config;
    if (dOutputs[0]) {
      const g = embeddingGradReference(dOutputs[0], this.inputs[0] === 'source' ? ctx.batch.source! : ctx.batch.tokens!, V, E);
      const into = grads[this.weight];
      for (let i = 0; i < g.length; i++) into[i] += g[i];
    }
    return [undefined]; // token ids have no gradient
  }

  gpu(plan: PlanContext, section: FlatSection): GpuLayer {
    const E = this.config.embedding_dim;
    const V = this.config.num_embeddings;
    const table = { ...plan.params, offset: section.start, shape: [V, E] };
    const hostIds = (batch: PreparedBatch) => (this.inputs[0] === 'source' ? batch.source! : batch.tokens!);
    let grad: ReturnType<typeof recordEmbeddingGrad> | undefined;
    let lookup: TableLookup | undefined;
    return {
      // The output is offered as a lookup: a reader that takes the table (the recurrent layer's input
      // projection, for a vocabulary smaller than the batch) makes the gather, and this layer's
      // backward, unnecessary; for any other reader the plan makes the dense rows once.
      forward: (inputs) => {
        const ids = inputs[0];
        const positions = ids.shape[0];
        let dense: { tensor: GpuTensor; gather?: Command } | undefined;
        lookup = {
          table,
          ids,
          positions,
          hostIds,
          grad: { ...plan.grads, offset: section.start, shape: [V, E] },
          taken: false,
          dense: () => {
            if (dense) return { tensor: dense.tensor };
            const out = plan.tensor(`${this.name}.output`, positions * E, [positions, E], 'activation');
            dense = {
              tensor: out,
              gather: recordEmbeddingGather(plan, { label: `${this.name}.gather`, tokens: ids, first: 0, rows: positions, table, E, out }),
            };
            return dense;
          },
        };
        return { outputs: [undefined], commands: [], lookups: [lookup] };
      },
      backward: (dOutputs) => {
        if (!dOutputs[0] || lookup?.taken) return [];
        grad = recordEmbeddingGrad(plan, {
          label: `${this.name}.grad`,
          positions: lookup!.positions,
          E,
          dx: dOutputs[0],
          grad: lookup!.grad,
        });
        return [grad.command];
      },
      write: (queue, batch) => grad?.write(queue, hostIds(batch)),
    };
  }
}
