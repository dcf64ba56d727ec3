/**
 * nn.Embedding on the GPU (shaders/embedding.wgsl): the gather of the forward, and the table's
 * gradient without float atomics — the host sorts the batch's positions by token (csrOfTokens), one
 * invocation per (distinct token, column) sums its positions' rows of dL/dx in a fixed order, so a run
 * is reproducible. Test: test/ops/embedding.test.ts.
 */
import { type GpuTensor, gpuTensor, tensorBinding } from '../gpu-tensor.js';
import { type Command, type Recorder, dispatch, simplePipeline } from '../program.js';
import { EMBEDDING_DIMS_FIELDS, packU32Struct } from '../uniforms.js';
import { ELEMENTWISE_WORKGROUP_SIZE, elementGrid, f32Module } from './elementwise.js';
import embeddingSource from '../../../shaders/embedding.wgsl?raw';

/** Columns per invocation of gather and scatter_grad (COLUMNS in the WGSL): 4 where the rows allow. */
export function embeddingColumns(E: number): number {
  return E % 4 === 0 ? 4 : 1;
}

/** dims, tokens, source, target */
function embeddingPipeline(rec: Recorder, entry: 'gather' | 'gather_last' | 'scatter_grad', columns = 1) {
  return simplePipeline(rec.ctx, f32Module(rec.ctx, 'embedding', embeddingSource), entry, { WORKGROUP_SIZE: ELEMENTWISE_WORKGROUP_SIZE, COLUMNS: columns }, [
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
  const columns = last ? 1 : embeddingColumns(call.E);
  const { pipeline, layout } = embeddingPipeline(rec, last ? 'gather_last' : 'gather', columns);
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
    tensorBinding({ ...call.table, offset: 0, shape: [call.table.offset + call.table.shape.reduce((a, b) => a * b, 1)] }),
    tensorBinding(call.out),
  ]);
  return dispatch(call.label, pipeline, [group], elementGrid(rec.ctx, ((last ? 1 : call.rows) * call.E) / columns));
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
  const columns = embeddingColumns(call.E);
  const { pipeline, layout } = embeddingPipeline(rec, 'scatter_grad', columns);
  const csr = gpuTensor(rec.storage(`${call.label}.csr`, 3 * call.positions + 1), [3 * call.positions + 1], 'u32');
  const dims = rec.uniform(
    `${call.label}.dims`,
    packU32Struct(EMBEDDING_DIMS_FIELDS, { rows: 0, E: call.E, table: call.grad.offset, first: 0, dest: 0, dx: call.dx.offset }),
  );
  const group = rec.ctx.bindGroup(call.label, layout, [
    dims,
    tensorBinding(csr),
    tensorBinding(call.dx),
    tensorBinding({ ...call.grad, offset: 0, shape: [call.grad.offset + call.grad.shape.reduce((a, b) => a * b, 1)] }),
  ]);
  return {
    command: dispatch(call.label, pipeline, [group], elementGrid(rec.ctx, (call.positions * call.E) / columns)),
    write(queue, tokens) {
      const { ids, words } = csrOfTokens(tokens);
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
