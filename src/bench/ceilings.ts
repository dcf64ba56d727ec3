/**
 * The adapter's own ceilings, measured in the same run as the systems: GEMM throughput with our GEMM
 * (ops/gemm.ts, as the input projection uses it: B a packed weight matrix, a bias) on a large problem,
 * the rate at which a kernel can read a large buffer (for kernels bound by their loads), and the cost of
 * one empty dispatch inside a compute pass. All are timed on the host around `onSubmittedWorkDone` (timestamp queries are
 * optional in WebGPU), with enough work per submit that the submit itself is noise.
 */
import probeSource from '../../shaders/bench-probe.wgsl?raw';
import { BufferUsage, ShaderStage } from '../gpu/constants.js';
import type { GpuContext } from '../gpu/context.js';
import { gpuTensor } from '../gpu/gpu-tensor.js';
import { GATE_LANES } from '../gpu/layer-weights.js';
import { recordGemm } from '../gpu/ops/gemm.js';
import { OwningRecorder } from '../gpu/recorder.js';

/** Our GEMM in one operand layout, on a shape a training step gives it. */
export interface GemmLayoutRate {
  /** What it serves and how: 'NN + bias (input projection)', 'TN (weight gradient)', … */
  layout: string;
  /** op(A) M×K · op(B) K×N */
  shape: string;
  gflops: number;
  /** gflops / gemm_gflops (the NN ceiling of the same run). */
  fraction: number;
  /**
   * Where the layout is bound by its loads rather than its arithmetic (M = 1: one multiply-add per
   * element of B it reads): the bytes it reads per second, and their share of `read_gbps`.
   */
  read?: { gbps: number; fraction: number };
}

export interface Ceilings {
  /** GFLOP/s of our matmul kernel on `gemm_shape`. */
  gemm_gflops: number;
  /** M×K·K×N, N counting vec4 lanes. */
  gemm_shape: string;
  /** Every operand layout the training plans use, on the throughput shape's training sizes (H 256, T·B 1,024). */
  gemm_layouts: GemmLayoutRate[];
  /** Microseconds per empty dispatch inside one pass. */
  empty_dispatch_us: number;
  /** GB/s (10⁹ bytes) a kernel reads from a large storage buffer (bench-probe.wgsl's `stream`). */
  read_gbps: number;
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
  const gemm_gflops = flop / (gemmMs * 1e6);
  const read_gbps = await measureReadBandwidth(ctx, scale);
  return {
    gemm_gflops,
    gemm_shape: `${M}×${K}·${K}×${N * GATE_LANES}`,
    gemm_layouts: await measureGemmLayouts(ctx, scale, gemm_gflops, read_gbps),
    empty_dispatch_us: ((median(manyMs) - median(oneMs)) * 1000) / (many - 1),
    read_gbps,
  };
}

/** GB/s read from a 16 MiB buffer (scaled) by 16,384 invocations, each summing every 16,384th vec4. */
async function measureReadBandwidth(ctx: GpuContext, scale: number): Promise<number> {
  const device = ctx.device;
  const workgroup = 64;
  const groups = 256;
  const vec4s = Math.max(groups * workgroup, Math.round((2 ** 20 * scale) / (groups * workgroup)) * groups * workgroup);
  const layout = ctx.bindGroupLayout('bench-stream/group0', [
    { binding: 1, visibility: ShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } },
    { binding: 2, visibility: ShaderStage.COMPUTE, buffer: { type: 'storage' } },
  ]);
  const pipeline = ctx.computePipeline({
    family: 'bench-probe',
    code: probeSource,
    entryPoint: 'stream',
    constants: { STREAM_WORKGROUP: workgroup },
    layouts: [layout],
  });
  const input = ctx.buffer('bench.stream.in', vec4s * 16, STORAGE);
  const output = ctx.buffer('bench.stream.out', groups * workgroup * 16, STORAGE);
  device.queue.writeBuffer(input, 0, new Float32Array(vec4s * 4).fill(1));
  const group = ctx.bindGroupAt('bench.stream', layout, [
    [1, { buffer: input, size: vec4s * 16 }],
    [2, { buffer: output, size: groups * workgroup * 16 }],
  ]);
  const run = (pass: GPUComputePassEncoder) => {
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(groups);
  };
  await timeSubmit(device, run); // warm-up (and the pipeline's compilation)
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) runs.push(await timeSubmit(device, run));
  for (const b of [input, output]) ctx.release(b);
  return (vec4s * 16) / (median(runs) * 1e6);
}

/**
 * The GEMM in each layout a training step uses (src/train/layers/recurrent/gpu.ts, linear/): the
 * input projection (NN + bias), dL/d(input) = dG·W (NT, and NT + β·C where two directions add up), the
 * weight gradients xᵀ·dG (TN) and the bias gradients 1ᵀ·dG (M = 1) — at the sizes of the throughput
 * shape's training step (H 256, four gates: N 1,024; T·B 1,024; I 256), scaled like the ceiling.
 */
async function measureGemmLayouts(ctx: GpuContext, scale: number, ceiling: number, readGbps: number): Promise<GemmLayoutRate[]> {
  const device = ctx.device;
  const n = (v: number) => Math.max(4, Math.round((v * scale) / 4) * 4);
  const [TB, G, I] = [n(1024), n(1024), n(256)];
  const layouts: Array<{ layout: string; M: number; N: number; K: number; transA?: boolean; transB?: boolean; beta?: number; bias?: boolean }> = [
    { layout: 'NN + bias (input projection)', M: TB, N: G, K: I, bias: true },
    { layout: 'NT (dL/d input)', M: TB, N: I, K: G, transB: true },
    { layout: 'NT + β·C (second direction)', M: TB, N: I, K: G, transB: true, beta: 1 },
    { layout: 'TN (weight gradient)', M: I, N: G, K: TB, transA: true },
    { layout: 'NN, M = 1 (bias gradient)', M: 1, N: G, K: TB },
  ];
  const out: GemmLayoutRate[] = [];
  for (const l of layouts) {
    const a = ctx.buffer('bench.layout.a', l.M * l.K * 4, STORAGE);
    const b = ctx.buffer('bench.layout.b', (l.K * l.N + l.N) * 4, STORAGE);
    const c = ctx.buffer('bench.layout.c', l.M * l.N * 4, STORAGE);
    device.queue.writeBuffer(a, 0, new Float32Array(l.M * l.K).fill(0.5));
    device.queue.writeBuffer(b, 0, new Float32Array(l.K * l.N + l.N).fill(0.01));
    const recorder = new OwningRecorder(ctx, 'bench.layout');
    const command = recordGemm(recorder, {
      label: `bench.layout.${l.layout}`,
      M: l.M,
      N: l.N,
      K: l.K,
      batch: 1,
      transA: l.transA,
      transB: l.transB,
      beta: l.beta,
      a: gpuTensor(a, [l.M, l.K]),
      aBatchStride: 0,
      b: gpuTensor(b, [l.K, l.N]),
      bBatchStride: 0,
      bias: l.bias ? gpuTensor(b, [l.N], 'f32', l.K * l.N) : undefined,
      biasBatchStride: 0,
      c: gpuTensor(c, [l.M, l.N]),
      cBatchStride: 0,
      format: 'f32',
    });
    const run = (pass: GPUComputePassEncoder) => {
      pass.setPipeline(command.pipeline);
      command.groups.forEach((g, i) => pass.setBindGroup(i, g as GPUBindGroup));
      pass.dispatchWorkgroups(...command.grid);
    };
    await timeSubmit(device, run); // warm-up (and the pipeline's compilation)
    const runs: number[] = [];
    for (let r = 0; r < 3; r++) runs.push(await timeSubmit(device, run));
    const ms = median(runs);
    const gflops = (2 * l.M * l.N * l.K) / (ms * 1e6);
    const rate: GemmLayoutRate = { layout: l.layout, shape: `${l.M}×${l.K}·${l.K}×${l.N}`, gflops, fraction: gflops / ceiling };
    if (l.M === 1) {
      // What it must read: A (1×K) and B (K×N).
      const gbps = (4 * (l.K + l.K * l.N)) / (ms * 1e6);
      rate.read = { gbps, fraction: gbps / readGbps };
    }
    out.push(rate);
    recorder.release();
    for (const buffer of [a, b, c]) ctx.release(buffer);
  }
  return out;
}
