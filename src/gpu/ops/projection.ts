/**
 * The LSTM projection op (shaders/projection.wgsl), per step: h_t = W_hr·h_raw for every (direction,
 * row, output), with the step's length mask, after the step op wrote h_raw. It shares the step op's
 * state and step-index bind-group layouts. Test: test/ops/recurrent.test.ts (LSTM with proj_size).
 */
import type { GpuContext } from '../context.js';
import { type Grid, dispatchSize, layoutEntries } from '../program.js';
import { type WeightFormat, kernelModule } from '../wgsl.js';
import { stepLayouts } from './recurrent-step.js';
import projectionSource from '../../../shaders/projection.wgsl?raw';

/** Invocations per workgroup: one (direction, row, output) each. */
export const PROJECTION_WORKGROUP_SIZE = 64;

/** dims, lengths, out, w_hr, h_raw (bindings 0, 1, 4, 5, 6). */
export function projectionLayout(ctx: GpuContext): GPUBindGroupLayout {
  return ctx.bindGroupLayout(
    'project/group0',
    layoutEntries([
      [0, 'uniform'],
      [1, 'read'],
      [4, 'write'],
      [5, 'read'],
      [6, 'read'],
    ]),
  );
}

export function projectionPipeline(ctx: GpuContext, format: WeightFormat): GPUComputePipeline {
  const step = stepLayouts(ctx);
  return ctx.computePipeline({
    ...kernelModule(ctx, 'projection', projectionSource, format, ['recurrent-common']),
    entryPoint: 'project',
    constants: { WORKGROUP_SIZE: PROJECTION_WORKGROUP_SIZE },
    layouts: [projectionLayout(ctx), step.state, step.index],
  });
}

export function projectionGrid(D: number, B: number, P: number, limits: GPUSupportedLimits): Grid {
  return [...dispatchSize(D * B * P, PROJECTION_WORKGROUP_SIZE, limits.maxComputeWorkgroupsPerDimension), 1];
}
