/**
 * The one dispatch-size helper: ceil-divides a count of invocations into workgroups and, past
 * maxComputeWorkgroupsPerDimension, folds them into a 2-D grid (kernels rebuild the linear index with
 * `linear_index` from the prelude and guard the tail).
 */
import { RnnError } from '../errors.js';

export function dispatchSize(invocations: number, workgroupSize: number, maxPerDimension: number): [number, number] {
  const groups = Math.max(1, Math.ceil(invocations / workgroupSize));
  if (groups <= maxPerDimension) return [groups, 1];
  const y = Math.ceil(groups / maxPerDimension);
  if (y > maxPerDimension) {
    throw new RnnError('LIMIT_EXCEEDED', `dispatch of ${invocations} invocations exceeds the device limit of ${maxPerDimension}² workgroups`);
  }
  return [Math.ceil(groups / y), y];
}

/** Workgroups along one axis of a tiled kernel; throws a clear error past the device limit. */
export function tileCount(extent: number, tile: number, maxPerDimension: number, what: string): number {
  const n = Math.max(1, Math.ceil(extent / tile));
  if (n > maxPerDimension) throw new RnnError('LIMIT_EXCEEDED', `${what}: ${extent} needs ${n} workgroups, above the device limit ${maxPerDimension}`);
  return n;
}
