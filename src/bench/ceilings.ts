/**
 * The adapter's own ceilings, measured in the same run as the systems: GEMM throughput with our GEMM
 * (ops/gemm.ts, as the input projection uses it: B a packed weight matrix, a bias) on a large problem, and the cost of one empty dispatch
 * inside a compute pass. Both are timed on the host around `onSubmittedWorkDone` (timestamp queries are
 * optional in WebGPU), with enough work per submit that the submit itself is noise.
 */
import probeSource from '../../shaders/bench-probe.wgsl?raw';
import { BufferUsage, ShaderStage } from '../gpu/constants.js';
import type { GpuContext } from '../gpu/context.js';
import { gpuTensor } from '../gpu/gpu-tensor.js';
import { GATE_LANES } from '../gpu/layer-weights.js';
import { recordGemm } from '../gpu/ops/gemm.js';
import { OwningRecorder } from '../gpu/recorder.js';

export interface Ceilings {
  /** GFLOP/s of our matmul kernel on `gemm_shape`. */
  gemm_gflops: number;
  /** M×K·K×N, N counting vec4 lanes. */
  gemm_shape: string;
  /** Microseconds per empty dispatch inside one pass. */
  empty_dispatch_us: number;
}

const STORAGE = BufferUsage.STORAGE | BufferUsage.COPY_DST;

async function timeSubmit(device: GPUDevice, record: (pass: GPUComputePassEncoder) => void): Promise<number> {
  const encoder = device.createCommandEncoder({ label: 'bench.ceiling' });
  const pass = encoder.beginComputePass();
  record(pass);
  pass.end();
  const t0 = performance.now();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** `scale` shrinks the GEMM (1 = the full size; CI's smoke run uses a small one). */
export async function measureCeilings(ctx: GpuContext, scale = 1): Promise<Ceilings> {
  const device = ctx.device;
  // GEMM: M rows × K into N units of 4 gate lanes — the shape of a big input projection.
  const M = Math.max(8, Math.round(1024 * scale));
  const K = Math.max(8, Math.round((512 * scale) / 4) * 4);
  const N = Math.max(8, Math.round(256 * scale));
  const params = ctx.buffer('bench.gemm.params', (K * N + N) * GATE_LANES * 4, STORAGE);
  const a = ctx.buffer('bench.gemm.a', M * K * 4, STORAGE);
  const c = ctx.buffer('bench.gemm.c', M * N * GATE_LANES * 4, STORAGE);
  const recorder = new OwningRecorder(ctx, 'bench');
  device.queue.writeBuffer(params, 0, new Float32Array((K * N + N) * GATE_LANES).fill(0.01));
  device.queue.writeBuffer(a, 0, new Float32Array(M * K).fill(0.5));
  const command = recordGemm(recorder, {
    label: 'bench.gemm',
    M,
    N: N * GATE_LANES,
    K,
    batch: 1,
    a: gpuTensor(a, [M, K]),
    aBatchStride: 0,
    b: gpuTensor(params, [K, N * GATE_LANES]),
    bBatchStride: 0,
    bias: gpuTensor(params, [N * GATE_LANES], 'f32', K * N * GATE_LANES),
    biasBatchStride: 0,
    c: gpuTensor(c, [M, N * GATE_LANES]),
    cBatchStride: 0,
    format: 'f32',
  });
  const gemm = (pass: GPUComputePassEncoder) => {
    pass.setPipeline(command.pipeline);
    pass.setBindGroup(0, command.groups[0] as GPUBindGroup);
    pass.dispatchWorkgroups(...command.grid);
  };
  await timeSubmit(device, gemm); // warm-up
  const gemmRuns: number[] = [];
  for (let r = 0; r < 3; r++) gemmRuns.push(await timeSubmit(device, gemm));
  const gemmMs = median(gemmRuns);
  const flop = 2 * M * K * N * GATE_LANES;

  // Empty dispatches: many in one pass, minus the cost of a pass with one.
  const layout = ctx.bindGroupLayout('bench-probe/group0', [{ binding: 0, visibility: ShaderStage.COMPUTE, buffer: { type: 'storage' } }]);
  const probe = ctx.computePipeline({ family: 'bench-probe', code: probeSource, entryPoint: 'empty', constants: {}, layouts: [layout] });
  const sink = ctx.buffer('bench.probe.sink', 4, STORAGE);
  const sinkGroup = ctx.bindGroup('bench.probe', layout, [{ buffer: sink, size: 4 }]);
  const dispatches = (n: number) => (pass: GPUComputePassEncoder) => {
    pass.setPipeline(probe);
    pass.setBindGroup(0, sinkGroup);
    for (let i = 0; i < n; i++) pass.dispatchWorkgroups(1);
  };
  const many = 2000;
  await timeSubmit(device, dispatches(many));
  const manyMs: number[] = [];
  const oneMs: number[] = [];
  for (let r = 0; r < 3; r++) {
    manyMs.push(await timeSubmit(device, dispatches(many)));
    oneMs.push(await timeSubmit(device, dispatches(1)));
  }
  for (const b of [params, a, c, sink]) ctx.release(b);
  recorder.release();
  return {
    gemm_gflops: flop / (gemmMs * 1e6),
    gemm_shape: `${M}×${K}·${K}×${N * GATE_LANES}`,
    empty_dispatch_us: ((median(manyMs) - median(oneMs)) * 1000) / (many - 1),
  };
}
