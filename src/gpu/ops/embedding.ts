/**
 * nn.Embedding on the GPU (shaders/embedding.wgsl): the gather of the forward, and the table's
 * gradient without float atomics — the host sorts the batch's positions by token (csrOfTokens), one
 * invocation per (distinct token, column) sums its positions' rows of dL/dx in a fixed order, so a run
 * is reproducible. Test: test/ops/embedding.test.ts.
 */
import type { GpuContext } from '../context.js';
import { type GpuTensor, gpuTensor, tensorBinding } from '../gpu-tensor.js';
import { type Command, type Recorder, dispatch, simplePipeline } from '../program.js';
import { EMBEDDING_DIMS_FIELDS, packU32Struct } from '../uniforms.js';
import { ELEMENTWISE_WORKGROUP_SIZE, elementGrid, f32Module, vec4Aligned, vectorsPerInvocation } from './elementwise.js';
import embeddingSource from '../../../shaders/embedding.wgsl?raw';

/**
 * vec4s per invocation of the `_vec4` entries, or 0 for the scalar ones: rows of E floats between float
 * offsets that are multiples of 4. The gradient's sums are named variables, so at most 4 there.
 */
export function embeddingVectors(ctx: GpuContext, E: number, offsets: readonly number[], most = 16): number {
  return vec4Aligned(E, ...offsets) ? vectorsPerInvocation(ctx, E / 4, most) : 0;
}

/** dims, tokens, source, target */
function embeddingPipeline(rec: Recorder, entry: 'gather' | 'gather_vec4' | 'gather_last' | 'scatter_grad' | 'scatter_grad_vec4', vectors = 1) {
  return simplePipeline(rec.ctx, f32Module(rec.ctx, 'embedding', embeddingSource), entry, { WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE, VECTORS: vectors }, [
    [0, 'uniform'],
    [1, 'read'],
    [2, 'read'],
    [3, 'write'],
  ]);
}

export interface GatherCall {
  readonly label: string;
  /** Token ids (u32). */
  readonly tokens: GpuTensor;
  /**
   * Which ids: `rows` of them from index `first` of `tokens`, or 'last' — the one at
   * tokens[tokens[0]] (a generated sequence [cursor, t_1, …], shaders/sample.wgsl).
   */
  readonly first: number | 'last';
  readonly rows: number;
  /** The table (V, E), `table.offset` floats into its buffer (the trainer's flat parameters). */
  readonly table: GpuTensor;
  readonly E: number;
  /** (rows, E) */
  readonly out: GpuTensor;
}

/** out[i] = table[tokens[first + i]]. */
export function recordEmbeddingGather(rec: Recorder, call: GatherCall): Command {
  const last = call.first === 'last';
  const vectors = last ? 0 : embeddingVectors(rec.ctx, call.E, [call.table.offset, call.out.offset]);
  const { pipeline, layout } = embeddingPipeline(rec, last ? 'gather_last' : vectors ? 'gather_vec4' : 'gather', vectors || 1);
  const dims = rec.uniform(
    `${call.label}.dims`,
    packU32Struct(EMBEDDING_DIMS_FIELDS, {
      rows: last ? 1 : call.rows,
      E: call.E,
      table: call.table.offset,
      first: last ? 0 : (call.first as number),
      dest: call.out.offset,
      dx: 0,
    }),
  );
  const group = rec.ctx.bindGroup(call.label, layout, [
    dims,
    tensorBinding(call.tokens),
    tensorBinding({ ...call.table, offset: 0, shape: [call.table.offset + call.table.shape.reduce((a, b) => a * b, 1)] }, vectors > 0),
    tensorBinding(call.out, vectors > 0),
  ]);
  return dispatch(call.label, pipeline, [group], elementGrid(rec.ctx, last ? call.E : (call.rows * call.E) / (4 * vectors || 1)));
}

export interface GradCall {
  readonly label: string;
  /** Positions in a batch (T·B). */
  readonly positions: number;
  readonly E: number;
  /** dL/dx (positions, E). */
  readonly dx: GpuTensor;
  /** The table's gradient (V, E), `grad.offset` floats into its buffer; rows of absent tokens are left as they are (zeros). */
  readonly grad: GpuTensor;
}

export interface RecordedGrad {
  readonly command: Command;
  /** Before a replay: the batch's token ids (positions), grouped on the host. */
  write(queue: GPUQueue, tokens: ArrayLike<number>): void;
}

/** grad[v] = Σ over the positions p holding token v of dx[p]. */
export function recordEmbeddingGrad(rec: Recorder, call: GradCall): RecordedGrad {
  const vectors = embeddingVectors(rec.ctx, call.E, [call.dx.offset, call.grad.offset], 4);
  const { pipeline, layout } = embeddingPipeline(rec, vectors ? 'scatter_grad_vec4' : 'scatter_grad', vectors || 1);
  // A batch holds at most this many distinct tokens: one group of invocations each.
  const distinct = Math.min(call.positions, call.grad.shape[0]);
  const csr = gpuTensor(rec.storage(`${call.label}.csr`, 3 * call.positions + 1), [3 * call.positions + 1], 'u32');
  const dims = rec.uniform(
    `${call.label}.dims`,
    packU32Struct(EMBEDDING_DIMS_FIELDS, { rows: 0, E: call.E, table: call.grad.offset, first: 0, dest: 0, dx: call.dx.offset }),
  );
  const group = rec.ctx.bindGroup(call.label, layout, [
    dims,
    tensorBinding(csr),
    tensorBinding(call.dx, vectors > 0),
    tensorBinding({ ...call.grad, offset: 0, shape: [call.grad.offset + call.grad.shape.reduce((a, b) => a * b, 1)] }, vectors > 0),
  ]);
  return {
    command: dispatch(call.label, pipeline, [group], elementGrid(rec.ctx, (distinct * call.E) / (4 * vectors || 1))),
    write(queue, tokens) {
      const { ids, words } = csrOfTokens(tokens);
      if (ids > distinct || tokens.length > call.positions) {
        throw new Error(
          `${call.label}: ${tokens.length} token ids (${ids} distinct) for a gradient recorded for ${call.positions} positions of a table of ${call.grad.shape[0]} rows`,
        );
      }
      queue.writeBuffer(csr.buffer, 0, words);
      queue.writeBuffer(
        dims.buffer,
        0,
        packU32Struct(EMBEDDING_DIMS_FIELDS, { rows: ids, E: call.E, table: call.grad.offset, first: 0, dest: 0, dx: call.dx.offset }),
      );
    },
  };
}

/**
 * The gradient's grouping: positions sorted by token, one group per distinct token, as the kernel
 * reads it — [ids (U) | starts (U + 1) | order (positions)].
 */
export function csrOfTokens(tokens: ArrayLike<number>): { ids: number; words: Uint32Array } {
  const n = tokens.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => tokens[a] - tokens[b] || a - b);
  const ids: number[] = [];
  const starts: number[] = [];
  order.forEach((pos, k) => {
    if (k === 0 || tokens[pos] !== tokens[order[k - 1]]) {
      ids.push(tokens[pos]);
      starts.push(k);
    }
  });
  starts.push(n);
  return { ids: ids.length, words: Uint32Array.from([...ids, ...starts, ...order]) };
}

/** The CPU counterparts (float64): the gather, and the table's gradient. */
export function embeddingGatherReference(table: ArrayLike<number>, tokens: ArrayLike<number>, E: number): Float64Array {
  const out = new Float64Array(tokens.length * E);
  for (let i = 0; i < tokens.length; i++) for (let e = 0; e < E; e++) out[i * E + e] = table[tokens[i] * E + e];
  return out;
}

export function embeddingGradReference(dx: ArrayLike<number>, tokens: ArrayLike<number>, V: number, E: number): Float64Array {
  const grad = new Float64Array(V * E);
  for (let i = 0; i < tokens.length; i++) for (let e = 0; e < E; e++) grad[tokens[i] * E + e] += dx[i * E + e];
  return grad;
}
