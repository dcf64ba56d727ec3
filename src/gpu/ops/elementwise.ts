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
