/**
 * Where a run's GPU time goes, dispatch by dispatch (`--profile`): one run of a prepared system is
 * recorded as it encodes (instrument.ts's captureDispatches), then every dispatch is recorded again
 * alone and timed by the difference of submits (ceilings.ts's timeRepeated), as the GEMM census times
 * its GEMMs. WebGPU's timestamp queries are optional (SwiftShader has none), so this works on any
 * adapter, and for any system that runs on the device — but timing a dispatch alone runs it again on
 * the buffers as they are, so the system is left in an undefined state: profile last, then dispose.
 *
 * Each dispatch alone misses what overlaps between dispatches in the real run and adds nothing for the
 * submit, copies and readback, so the sum is compared with the run's median rather than taken for it.
 */
import { timeRepeated } from './ceilings.js';
import { type CapturedDispatch, captureDispatches } from './instrument.js';

/** One dispatch of the run, timed alone. */
export interface DispatchTime {
  /** Position in the run's recording order. */
  index: number;
  /** The kernel: the pipeline's module family and entry point (`recurrent-backward/persistent_backward_blocked4`). */
  kernel: string;
  /** What it belongs to: the label of its first bind group (`rnn.layer1.backward`), where it has one. */
  label: string;
  grid: [number, number, number];
  ms: number;
}

/** The dispatches of one kernel, summed. */
export interface KernelTime {
  kernel: string;
  calls: number;
  ms: number;
  /** Distinct labels of its dispatches, in order. */
  labels: string[];
}

export interface DispatchProfile {
  dispatches: DispatchTime[];
  kernels: KernelTime[];
  /** Milliseconds of all dispatches, each alone. */
  total_ms: number;
  /** Indirect dispatches seen and not timed (none in our engine). */
  untimed: number;
}

/**
 * The kernel a pipeline runs, from its label. Our pipelines are labelled `family.format.features/entry/constants`
 * (GpuContext.computePipeline); another system's label (or none) is kept as it is.
 */
export function kernelOf(pipelineLabel: string): string {
  const [module, entry] = pipelineLabel.split('/');
  if (entry === undefined) return pipelineLabel || '(unlabelled)';
  return `${module.split('.')[0]}/${entry}`;
}

/** Records `run` once and times each of its dispatches alone (`runs` samples each, median). */
export async function profileDispatches(device: GPUDevice, run: () => Promise<unknown>, runs = 3): Promise<DispatchProfile> {
  const captured = await captureDispatches(run);
  await device.queue.onSubmittedWorkDone();
  const dispatches: DispatchTime[] = [];
  for (const [index, d] of captured.dispatches.entries()) {
    const ms = await timeRepeated(device, (repeats) => (pass) => encodeAlone(pass, d, repeats), runs);
    dispatches.push({ index, kernel: kernelOf(d.pipeline.label), label: d.groups.find(Boolean)?.group.label ?? '', grid: d.grid, ms });
  }
  return { dispatches, kernels: byKernel(dispatches), total_ms: dispatches.reduce((s, d) => s + d.ms, 0), untimed: captured.indirect };
}

/** `d` recorded `repeats` times into `pass`, with the bind groups and dynamic offsets it had. */
export function encodeAlone(pass: GPUComputePassEncoder, d: CapturedDispatch, repeats = 1): void {
  pass.setPipeline(d.pipeline);
  d.groups.forEach((g, i) => {
    if (g) pass.setBindGroup(i, g.group, g.offsets);
  });
  for (let r = 0; r < repeats; r++) pass.dispatchWorkgroups(...d.grid);
}

/** Dispatches summed per kernel, the costliest first. */
export function byKernel(dispatches: readonly DispatchTime[]): KernelTime[] {
  const kernels = new Map<string, KernelTime>();
  for (const d of dispatches) {
    const k = kernels.get(d.kernel) ?? { kernel: d.kernel, calls: 0, ms: 0, labels: [] };
    k.calls++;
    k.ms += d.ms;
    if (d.label && !k.labels.includes(d.label)) k.labels.push(d.label);
    kernels.set(d.kernel, k);
  }
  return [...kernels.values()].sort((a, b) => b.ms - a.ms);
}

/** Labels listed per kernel line before "and N more". */
const LABELS_SHOWN = 3;

/**
 * The profile as report lines: a head with the sum against `runMs` (the run's median, where known),
 * then one line per kernel with its share of the sum.
 */
export function formatDispatchProfile(name: string, p: DispatchProfile, runMs: number | null): string[] {
  const against = runMs ? ` against the run's median of ${runMs.toFixed(1)} ms` : '';
  const untimed = p.untimed ? `, ${p.untimed} indirect not timed` : '';
  const head = `${name}: ${p.dispatches.length} dispatches, each alone: ${p.total_ms.toFixed(1)} ms in all${against}${untimed}`;
  return [
    head,
    ...p.kernels.map((k) => {
      const share = p.total_ms > 0 ? Math.round((100 * k.ms) / p.total_ms) : 0;
      const more = k.labels.length > LABELS_SHOWN ? ` and ${k.labels.length - LABELS_SHOWN} more` : '';
      const labels = k.labels.length ? `  ${k.labels.slice(0, LABELS_SHOWN).join(', ')}${more}` : '';
      return `  ${k.ms.toFixed(2).padStart(9)} ms ${`${share}%`.padStart(4)} ${`×${k.calls}`.padStart(5)}  ${k.kernel}${labels}`;
    }),
  ];
}
