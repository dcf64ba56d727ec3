// The benchmark's per-dispatch profile (--profile): every dispatch of a run recorded as encoded and
// recorded again alone. On the Node GPU (Dawn): the capture must reproduce what ran — bind groups,
// dynamic offsets in both of setBindGroup's forms, grids — or the profile times something else.
import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../src/bench/cli.js';
import { byKernel, encodeAlone, formatDispatchProfile, kernelOf } from '../src/bench/dispatch-profile.js';
import { captureDispatches } from '../src/bench/instrument.js';
import { formatTable, runBench } from '../src/bench/run.js';
import { TINY_TRAIN_SHAPE } from '../src/bench/train-shapes.js';
import { contextFor } from '../src/gpu/device.js';

// Each invocation i < n writes base + i to out[i]; base comes from a uniform read at a dynamic offset.
const WRITER = `
struct Base { value: f32 }
@group(0) @binding(0) var<uniform> base: Base;
@group(1) @binding(0) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(4)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < arrayLength(&out)) { out[gid.x] = base.value + f32(gid.x); }
}`;

async function writerProgram() {
  const { device } = await contextFor();
  const bases = device.createBuffer({ size: 512, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(bases, 0, new Float32Array([100]));
  device.queue.writeBuffer(bases, 256, new Float32Array([200]));
  const uniformLayout = device.createBindGroupLayout({
    entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } }],
  });
  const storageLayout = device.createBindGroupLayout({ entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } }] });
  const pipeline = device.createComputePipeline({
    label: 'writer.f32/main/[]',
    layout: device.createPipelineLayout({ bindGroupLayouts: [uniformLayout, storageLayout] }),
    compute: { module: device.createShaderModule({ code: WRITER }), entryPoint: 'main' },
  });
  const baseGroup = device.createBindGroup({ label: 'test.base', layout: uniformLayout, entries: [{ binding: 0, resource: { buffer: bases, size: 4 } }] });
  const outputs = [7, 9].map((n) => device.createBuffer({ size: 4 * n, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST }));
  const outGroups = outputs.map((buffer) => device.createBindGroup({ layout: storageLayout, entries: [{ binding: 0, resource: { buffer } }] }));
  const read = async (buffer: GPUBuffer) => {
    const staging = device.createBuffer({ size: buffer.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, buffer.size);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const data = Array.from(new Float32Array(staging.getMappedRange().slice(0)));
    staging.destroy();
    return data;
  };
  return { device, pipeline, baseGroup, outGroups, outputs, read };
}

describe('dispatch profile', () => {
  it('records every dispatch as encoded: replayed alone, the capture writes what the run wrote', async () => {
    const { device, pipeline, baseGroup, outGroups, outputs, read } = await writerProgram();
    const original = GPUComputePassEncoder.prototype.dispatchWorkgroups;
    const { dispatches } = await captureDispatches(async () => {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, baseGroup, [256]); // base 200, offsets as an array
      pass.setBindGroup(1, outGroups[0]);
      pass.dispatchWorkgroups(2); // 8 invocations for 7 elements
      pass.setBindGroup(0, baseGroup, new Uint32Array([512, 0, 999]), 1, 1); // base 100, the (data, start, length) form
      pass.setBindGroup(1, outGroups[1]);
      pass.dispatchWorkgroups(3, 1, 1);
      pass.end();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
    });
    expect(GPUComputePassEncoder.prototype.dispatchWorkgroups).toBe(original);
    const ran = await Promise.all(outputs.map(read));
    expect(ran).toEqual([Array.from({ length: 7 }, (_, i) => 200 + i), Array.from({ length: 9 }, (_, i) => 100 + i)]);
    expect(dispatches.map((d) => [d.grid, d.groups.map((g) => g?.offsets)])).toEqual([
      [
        [2, 1, 1],
        [[256], []],
      ],
      [
        [3, 1, 1],
        [[0], []],
      ],
    ]);
    // Cleared, then the captured dispatches alone, in reverse: the same values again.
    device.queue.writeBuffer(outputs[0], 0, new Float32Array(7).fill(-1));
    device.queue.writeBuffer(outputs[1], 0, new Float32Array(9).fill(-1));
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder();
    for (const d of [...dispatches].reverse()) {
      const pass = encoder.beginComputePass();
      encodeAlone(pass, d, 2);
      pass.end();
    }
    device.queue.submit([encoder.finish()]);
    expect((await device.popErrorScope())?.message).toBeUndefined();
    expect(await Promise.all(outputs.map(read))).toEqual(ran);
  });

  it('puts the prototype back when the run throws', async () => {
    const original = GPUComputePassEncoder.prototype.setBindGroup;
    await expect(
      captureDispatches(async () => {
        throw new Error('the run failed');
      }),
    ).rejects.toThrow('the run failed');
    expect(GPUComputePassEncoder.prototype.setBindGroup).toBe(original);
  });

  it('names kernels by module and entry point, and sums them per kernel, the costliest first', () => {
    expect(kernelOf('recurrent-backward.f32.subgroups/persistent_backward_blocked4/[["BLOCK_B",4]]')).toBe('recurrent-backward/persistent_backward_blocked4');
    expect(kernelOf('gemm.f16/gemm_wide/[]')).toBe('gemm/gemm_wide');
    expect(kernelOf('someone else')).toBe('someone else');
    expect(kernelOf('')).toBe('(unlabelled)');
    const at = (index: number, kernel: string, label: string, ms: number) => ({ index, kernel, label, grid: [1, 1, 1] as [number, number, number], ms });
    const dispatches = [
      at(0, 'gemm/gemm_wide', 'a.x', 1),
      at(1, 'loop/persistent', 'l0', 5),
      at(2, 'gemm/gemm_wide', 'b.x', 2),
      at(3, 'gemm/gemm_wide', 'a.x', 0.5),
    ];
    expect(byKernel(dispatches)).toEqual([
      { kernel: 'loop/persistent', calls: 1, ms: 5, labels: ['l0'] },
      { kernel: 'gemm/gemm_wide', calls: 3, ms: 3.5, labels: ['a.x', 'b.x'] },
    ]);
    const lines = formatDispatchProfile('tiny ours', { dispatches, kernels: byKernel(dispatches), total_ms: 8.5, untimed: 0 }, 10);
    expect(lines).toEqual([
      "tiny ours: 4 dispatches, each alone: 8.5 ms in all against the run's median of 10.0 ms",
      '       5.00 ms  59%    ×1  loop/persistent  l0',
      '       3.50 ms  41%    ×3  gemm/gemm_wide  a.x, b.x',
    ]);
  });

  it('--profile: our step and forward on the training shape, every dispatch the run counted, each timed', async () => {
    expect(parseBenchArgs(['--profile']).profile).toBe(true);
    expect(parseBenchArgs([]).profile).toBe(false);
    const lines: string[] = [];
    const report = await runBench({
      shapes: [TINY_TRAIN_SHAPE],
      systems: ['webgpu-rnn', 'webgpu-rnn-forward', 'cpu-reference'],
      runs: 1,
      warmup: 1,
      runtime: 'node (test)',
      ceilings: false,
      ceilingScale: 0.125,
      profile: true,
      log: (l) => lines.push(l),
    });
    for (const row of report.rows) {
      expect(row.error, `${row.system}: ${row.error}`).toBeUndefined();
      if (row.system === 'cpu-reference') {
        expect(row.dispatch_profile).toBeUndefined();
        continue;
      }
      const p = row.dispatch_profile!;
      expect(p.dispatches.length, row.system).toBe(row.dispatches); // what countGpuWork counted in a run
      expect(p.dispatches.map((d) => d.index)).toEqual(p.dispatches.map((_, i) => i));
      for (const d of p.dispatches) expect(Number.isFinite(d.ms) && d.ms > 0, `${d.kernel} ${d.ms}`).toBe(true);
      expect(p.total_ms).toBeCloseTo(
        p.dispatches.reduce((s, d) => s + d.ms, 0),
        9,
      );
      expect(p.kernels.reduce((n, k) => n + k.calls, 0)).toBe(p.dispatches.length);
      expect(p.kernels.map((k) => k.kernel)).toContain('recurrent-persistent/persistent');
    }
    const step = report.rows.find((r) => r.system === 'webgpu-rnn')!;
    expect(step.dispatch_profile!.kernels.map((k) => k.kernel)).toEqual(expect.arrayContaining(['optimizer/step', 'loss/cross_entropy']));
    expect(step.dispatch_profile!.dispatches.some((d) => d.label === 'rnn.layer0.persistent')).toBe(true);
    const output = lines.join('\n');
    expect(output).toMatch(/^train-tiny webgpu-rnn: \d+ dispatches, each alone: [\d.]+ ms in all against the run's median of [\d.]+ ms$/m);
    expect(output).toMatch(/^ +[\d.]+ ms +\d+% +×\d+ {2}optimizer\/step {2}/m);
    expect(formatTable(report)).toMatch(/^train-tiny webgpu-rnn-forward: \d+ dispatches/m);
  });
});
