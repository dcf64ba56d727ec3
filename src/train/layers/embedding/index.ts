/**
 * nn.Embedding(num_embeddings, embedding_dim) as a layer: token ids (`tokens`, T·B) → their rows of
 * the table (`embedding.output`, (T·B, E)). Parameter `embedding.weight` (V, E), initialised N(0, 1)
 * as PyTorch's. The gradient of the table sums dL/dx over the positions of each token, in a fixed
 * order on the GPU (no float atomics: the embedding op groups positions on the host).
 */
import { embeddingGatherReference, embeddingGradReference, recordEmbeddingGather, recordEmbeddingGrad } from '../../../gpu/ops/embedding.js';
import type { FlatSection, GpuLayer, InitDraws, ParamSpec, PlanContext, ReferenceContext, TrainLayer } from '../layer.js';
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
    const table = { ...plan.params, offset: section.start, shape: [this.config.num_embeddings, E] };
    let grad: ReturnType<typeof recordEmbeddingGrad> | undefined;
    let rows = 0; // the positions of its ids: T·B, or an encoder's S·B
    return {
      forward: (inputs) => {
        rows = inputs[0].shape[0];
        const out = plan.tensor(`${this.name}.output`, rows * E, [rows, E], 'activation');
        return {
          outputs: [out],
          commands: [recordEmbeddingGather(plan, { label: `${this.name}.gather`, tokens: inputs[0], first: 0, rows, table, E, out })],
        };
      },
      backward: (dOutputs) => {
        if (!dOutputs[0]) return [];
        grad = recordEmbeddingGrad(plan, {
          label: `${this.name}.grad`,
          positions: rows,
          E,
          dx: dOutputs[0],
          grad: { ...plan.grads, offset: section.start, shape: [this.config.num_embeddings, E] },
        });
        return [grad.command];
      },
      write: (queue, batch) => grad?.write(queue, this.inputs[0] === 'source' ? batch.source! : batch.tokens!),
    };
  }
}
