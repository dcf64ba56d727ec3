/**
 * A trained model's weights from the caller — tensors by state_dict name, a decoded safetensors file
 * or its bytes — checked against the model: every parameter, its shape, nothing else.
 */
import { RnnError, describeValue } from '../errors.js';
import { type SafetensorsFile, readSafetensors } from '../safetensors.js';
import { checkFloatTensor } from '../tensor.js';
import type { TrainableConfig } from './config.js';
import { modelParameterSpecs } from './model.js';

/** Weights by state_dict name, checked against the model: every parameter, its shape, nothing else. */
export function loadTrainingWeights(model: TrainableConfig, source: unknown): Record<string, Float64Array> {
  const tensors =
    source instanceof Uint8Array
      ? readSafetensors(source).tensors
      : source !== null && typeof source === 'object' && 'tensors' in source && 'dtypes' in source
        ? (source as SafetensorsFile).tensors
        : source;
  if (tensors === null || typeof tensors !== 'object')
    throw new RnnError('WEIGHTS_INVALID', `weights: expected tensors by name or a safetensors file, got ${describeValue(source)}`);
  const problems: string[] = [];
  const out: Record<string, Float64Array> = {};
  const specs = modelParameterSpecs(model);
  for (const spec of specs) {
    const t = (tensors as Record<string, unknown>)[spec.name];
    if (t === undefined) {
      problems.push(`missing tensor ${spec.name} (expected shape [${spec.shape.join(', ')}])`);
      continue;
    }
    try {
      const f = checkFloatTensor(`tensor ${spec.name}`, t, 'WEIGHTS_INVALID');
      if (f.shape.join() !== spec.shape.join()) problems.push(`tensor ${spec.name}: expected shape [${spec.shape.join(', ')}], got [${f.shape.join(', ')}]`);
      else out[spec.name] = Float64Array.from(f.data);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  const known = new Set(specs.map((s) => s.name));
  for (const name of Object.keys(tensors)) if (!known.has(name)) problems.push(`unexpected tensor ${name}`);
  if (problems.length) throw new RnnError('WEIGHTS_INVALID', `weights do not match the model:\n  ${problems.join('\n  ')}`);
  return out;
}
