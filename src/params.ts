/**
 * PyTorch's parameter names and shapes for nn.RNN / nn.LSTM / nn.GRU, and the checks on a weight set.
 *
 * Names: `{kind}_l{layer}` plus `_reverse` for the backward direction, kind one of
 * weight_ih (G·H, I_l), weight_hh (G·H, H_out), bias_ih (G·H), bias_hh (G·H), weight_hr (P, H),
 * where G is the gate count (LSTM i,f,g,o; GRU r,z,n; RNN 1), H = hidden_size, P = proj_size,
 * H_out = P if projecting else H, and I_l = input_size for layer 0, else D·H_out.
 * This is the one place that knows the layout; backends take the tensors as PyTorch stores them.
 */
import { type RnnConfig, gateCount, numDirections, outputSize } from './config.js';
import { type Tensor, formatShape, shapesEqual, sizeOf } from './tensor.js';

export type ParamKind = 'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh' | 'weight_hr';

export interface ParamSpec {
  readonly name: string;
  readonly kind: ParamKind;
  readonly layer: number;
  /** 0 = forward, 1 = reverse. */
  readonly direction: number;
  readonly shape: readonly number[];
}

/** A weight set keyed by PyTorch parameter name. */
export type Weights = Readonly<Record<string, Tensor>>;

export function paramName(kind: ParamKind, layer: number, direction: number): string {
  return `${kind}_l${layer}${direction === 1 ? '_reverse' : ''}`;
}

/** Input feature size of layer `layer`. */
export function layerInputSize(config: RnnConfig, layer: number): number {
  return layer === 0 ? config.input_size : numDirections(config) * outputSize(config);
}

/** Every parameter the configuration has, in PyTorch's state_dict order. */
export function parameterSpecs(config: RnnConfig): ParamSpec[] {
  const G = gateCount(config.mode);
  const H = config.hidden_size;
  const Hout = outputSize(config);
  const specs: ParamSpec[] = [];
  for (let layer = 0; layer < config.num_layers; layer++) {
    for (let direction = 0; direction < numDirections(config); direction++) {
      const add = (kind: ParamKind, shape: number[]) =>
        specs.push({ name: paramName(kind, layer, direction), kind, layer, direction, shape });
      add('weight_ih', [G * H, layerInputSize(config, layer)]);
      add('weight_hh', [G * H, Hout]);
      if (config.bias) {
        add('bias_ih', [G * H]);
        add('bias_hh', [G * H]);
      }
      if (config.proj_size > 0) add('weight_hr', [config.proj_size, H]);
    }
  }
  return specs;
}

/**
 * Checks a weight set against the configuration: every parameter present with its exact shape, and
 * nothing else. Reports every problem at once, each naming the tensor.
 */
export function checkWeights(config: RnnConfig, weights: Weights): void {
  const specs = parameterSpecs(config);
  const expected = new Set(specs.map((s) => s.name));
  const problems: string[] = [];
  for (const spec of specs) {
    const t = weights[spec.name];
    if (t === undefined) {
      problems.push(`missing tensor ${spec.name} (expected shape ${formatShape(spec.shape)})`);
    } else if (!shapesEqual(t.shape, spec.shape)) {
      problems.push(`tensor ${spec.name}: expected shape ${formatShape(spec.shape)}, got ${formatShape(t.shape)}`);
    } else if (t.data.length !== sizeOf(spec.shape)) {
      problems.push(`tensor ${spec.name}: data holds ${t.data.length} elements, shape needs ${sizeOf(spec.shape)}`);
    }
  }
  for (const name of Object.keys(weights)) {
    if (!expected.has(name)) problems.push(`unexpected tensor ${name}`);
  }
  if (problems.length > 0) throw new RangeError(`weights do not match the ${config.mode} configuration:\n  ${problems.join('\n  ')}`);
}

/**
 * Accepts a state_dict saved from a parent module (keys like `encoder.rnn.weight_ih_l0`): when every
 * key shares one dotted prefix and stripping it yields names of this configuration, strips it.
 * Otherwise returns the weights unchanged (checkWeights then reports the mismatch).
 */
export function stripCommonPrefix(config: RnnConfig, weights: Weights): Weights {
  const names = Object.keys(weights);
  if (names.length === 0) return weights;
  const first = names[0];
  const dot = first.lastIndexOf('.');
  if (dot < 0) return weights;
  const prefix = first.slice(0, dot + 1);
  if (!names.every((n) => n.startsWith(prefix))) return weights;
  const known = new Set(parameterSpecs(config).map((s) => s.name));
  if (!names.every((n) => known.has(n.slice(prefix.length)))) return weights;
  return Object.fromEntries(names.map((n) => [n.slice(prefix.length), weights[n]]));
}
