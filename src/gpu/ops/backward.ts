/**
 * The per-step backward op (shaders/recurrent-backward.wgsl): for one layer, T steps newest first,
 * each two dispatches — `cell_backward` (the gates' gradients from the total dL/dh_t) then
 * `hidden_backward` (dL/dh_{t−1} through W_hhᵀ) — over all directions. The plan gives it the saved
 * activations, the layer's weights and dL/d(output); the weight gradients are GEMMs over all steps
 * afterwards. Test: test/train/gpu-training.test.ts, against the float64 reference backward.
 */
import type { RnnConfig } from '../../config.js';
import type { GpuContext } from '../context.js';
import { type BindingKind, type Grid, layoutEntries, tileCount } from '../program.js';
import { type WeightFormat, kernelModule } from '../wgsl.js';
import { MODE_CODE } from './persistent.js';
import backwardSource from '../../../shaders/recurrent-backward.wgsl?raw';

export const BACKWARD_WORKGROUP_SIZE = 64;

const BINDINGS: ReadonlyArray<readonly [number, BindingKind]> = [[0, 'uniform'], [1, 'read'], [2, 'read'], [3, 'read'], [4, 'read'], [5, 'write'], [6, 'write']];

export interface BackwardKernels {
  cell: GPUComputePipeline;
  hidden: GPUComputePipeline;
  /** dims, lengths, saved, params, dout, dg, gstate */
  layout: GPUBindGroupLayout;
  /** The step index (dynamic offset). */
  indexLayout: GPUBindGroupLayout;
  cellGrid: Grid;
  hiddenGrid: Grid;
}

export function backwardKernels(ctx: GpuContext, config: RnnConfig, B: number, format: WeightFormat): BackwardKernels {
  const layout = ctx.bindGroupLayout('backward/group0', layoutEntries(BINDINGS));
  const indexLayout = ctx.bindGroupLayout('backward/group1', layoutEntries([[0, 'dynamic-uniform']]));
  const module = kernelModule(ctx, 'recurrent-backward', backwardSource, format);
  const constants = { MODE: MODE_CODE[config.mode], HAS_PROJ: config.proj_size > 0, WORKGROUP_SIZE: BACKWARD_WORKGROUP_SIZE };
  const pipeline = (entryPoint: string) => ctx.computePipeline({ ...module, entryPoint, constants, layouts: [layout, indexLayout] });
  const D = config.bidirectional ? 2 : 1;
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  const rows = D * B;
  if (rows > max) tileCount(rows, 1, max, 'backward rows (directions × batch)');
  return {
    cell: pipeline('cell_backward'),
    hidden: pipeline('hidden_backward'),
    layout,
    indexLayout,
    cellGrid: [tileCount(config.hidden_size, BACKWARD_WORKGROUP_SIZE, max, 'backward units (hidden_size)'), rows, 1],
    hiddenGrid: [tileCount(config.proj_size || config.hidden_size, BACKWARD_WORKGROUP_SIZE, max, 'backward units (H_out)'), rows, 1],
  };
}
