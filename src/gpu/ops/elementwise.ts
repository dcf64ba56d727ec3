/**
 * What the small training ops share: their kernels are one f32 module each (no weight format), run
 * one invocation per element on a linear grid of ELEMENTWISE_WORKGROUP_SIZE.
 */
import type { GpuContext } from '../context.js';
import { type Grid, linearGrid } from '../program.js';
import { type Include, kernelModule } from '../wgsl.js';

export const ELEMENTWISE_WORKGROUP_SIZE = 64;

/** An f32 kernel module (the weight-format header is f32's; these kernels read no weights). */
export function f32Module(ctx: GpuContext, name: string, source: string, includes: Include[] = []): { family: string; code: string } {
  return kernelModule(ctx, name, source, 'f32', includes);
}

/** The grid of `n` invocations, one per element. */
export function elementGrid(ctx: GpuContext, n: number): Grid {
  return linearGrid(n, ELEMENTWISE_WORKGROUP_SIZE, ctx.limits);
}

/** Whether rows of `width` floats from these float offsets can be read and written as vec4s. */
export function vec4Aligned(width: number, ...offsets: number[]): boolean {
  return width % 4 === 0 && offsets.every((o) => o % 4 === 0);
}

/**
 * vec4s per invocation for a kernel that streams rows of `rowVectors` vec4s: 1 on a GPU (each lane its
 * own vec4, the loads coalesced across lanes); on a software adapter as many as divide the row, up to
 * `most`. There a workgroup is a task on a CPU core, and a copy's cost is its invocations' index
 * arithmetic and scalar accesses. Measured on SwiftShader (Chromium, the char-LM's gather of 400 rows
 * of 512 floats, 11 interleaved rounds): 2.02 ms as 4 floats per invocation, 1.52 as one vec4, 0.69 as
 * 4, 0.55 as 8, 0.48 as 16.
 */
export function vectorsPerInvocation(ctx: GpuContext, rowVectors: number, most = 16): number {
  if (!ctx.isSoftwareAdapter) return 1;
  let v = 1;
  while (v * 2 <= most && rowVectors % (v * 2) === 0) v *= 2;
  return v;
}
