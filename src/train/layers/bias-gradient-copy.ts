/**
 * dL/db_ih where it is dL/db_hh: an LSTM's and a plain RNN's gates take x's and h's terms summed, so
 * both bias gradients are Σ dg over the rows, one sum, taken once (the db_hh GEMM) and copied — half
 * the bias gradients' reads (a column sum over T·B rows is bound by its loads: the classifier's
 * 2,048 × 256 took 1.8 ms on SwiftShader). A GRU's differ (r scales W_hn·h + b_hn) and keep their own.
 */
import { F32_BYTES as F32 } from '../../gpu/constants.js';
import type { GpuTensor } from '../../gpu/gpu-tensor.js';
import { type Command, copy } from '../../gpu/program.js';
import type { PlanContext } from './layer.js';

/** Commands copying `elements` floats from `from` to `to` of the plan's gradients: WebGPU copies no buffer onto itself, so through a scratch buffer (`<name>.dbCopy`). */
export function copyBiasGradient(plan: PlanContext, name: string, from: GpuTensor, to: GpuTensor, elements: number): Command[] {
  const scratch = plan.tensor(`${name}.dbCopy`, elements, [elements], 'work');
  const bytes = elements * F32;
  return [copy(from.buffer, from.offset * F32, scratch.buffer, 0, bytes), copy(scratch.buffer, 0, to.buffer, to.offset * F32, bytes)];
}
