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
import { RnnError, describeValue } from './errors.js';
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
      const add = (kind: ParamKind, shape: number[]) => specs.push({ name: paramName(kind, layer, direction), kind, layer, direction, shape });
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
 * Checks a weight set against the configuration: every parameter present, a float tensor with its exact
 * shape and data length, and nothing else. Reports every problem at once, each naming the tensor; when
 * the names are a parent module's state_dict (`encoder.rnn.weight_ih_l0`, `head.weight`, …), says
 * which prefix to pass.
 */
export function checkWeights(config: RnnConfig, weights: Weights): void {
  const specs = parameterSpecs(config);
  const expected = new Set(specs.map((s) => s.name));
  const problems: string[] = [];
  for (const spec of specs) {
    const t = weights[spec.name] as unknown;
    if (t === undefined) {
      problems.push(`missing tensor ${spec.name} (expected shape ${formatShape(spec.shape)})`);
      continue;
    }
    const data = (t as { data?: unknown } | null)?.data;
    if (t === null || typeof t !== 'object' || !(data instanceof Float32Array || data instanceof Float64Array)) {
      problems.push(`tensor ${spec.name}: expected a float tensor { shape, data: Float32Array | Float64Array }, got ${describeValue(data ?? t)}`);
    } else if (!Array.isArray((t as Tensor).shape) || !shapesEqual((t as Tensor).shape, spec.shape)) {
      problems.push(
        `tensor ${spec.name}: expected shape ${formatShape(spec.shape)}, got ${Array.isArray((t as Tensor).shape) ? formatShape((t as Tensor).shape) : describeValue((t as Tensor).shape)}`,
      );
    } else if (data.length !== sizeOf(spec.shape)) {
      problems.push(`tensor ${spec.name}: data holds ${data.length} elements, shape needs ${sizeOf(spec.shape)}`);
    }
  }
  const unexpected = Object.keys(weights).filter((name) => !expected.has(name));
  for (const name of unexpected) problems.push(`unexpected tensor ${name}`);
  if (problems.length === 0) return;
  const prefix = unexpected.length > 0 ? matchingPrefix(config, Object.keys(weights)) : undefined;
  const hint =
    prefix === undefined
      ? ''
      : `\n  hint: the tensors under ${JSON.stringify(prefix)} match this configuration (a parent module's state_dict?); pass prefix: ${JSON.stringify(prefix)} (CLI: --prefix ${prefix}) to take only those`;
  const shown = problems.length > 12 ? [...problems.slice(0, 12), `… and ${problems.length - 12} more`] : problems;
  throw new RnnError('WEIGHTS_INVALID', `weights do not match the ${config.mode} configuration:\n  ${shown.join('\n  ')}${hint}`);
}

/** A dotted prefix under which the names are exactly this configuration's parameters, if there is one. */
function matchingPrefix(config: RnnConfig, names: readonly string[]): string | undefined {
  const expected = parameterSpecs(config).map((s) => s.name);
  const candidates = new Set<string>();
  for (const name of names) {
    for (const spec of expected) if (name.endsWith(`.${spec}`)) candidates.add(name.slice(0, name.length - spec.length));
  }
  for (const prefix of candidates) {
    const under = names.filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length));
    if (under.length === expected.length && expected.every((e) => under.includes(e))) return prefix;
  }
  return undefined;
}

/**
 * The tensors whose names start with `prefix`, with it stripped: a parent module's state_dict
 * (`encoder.rnn.` of a model with a head) narrowed to the recurrent module's own parameters.
 */
export function selectPrefix(weights: Weights, prefix: string): Weights {
  if (typeof prefix !== 'string' || prefix === '')
    throw new RnnError('OPTION_INVALID', `prefix: expected a non-empty string such as "encoder.rnn.", got ${describeValue(prefix)}`);
  const names = Object.keys(weights).filter((n) => n.startsWith(prefix));
  if (names.length === 0) {
    const some = Object.keys(weights).slice(0, 5).join(', ');
    throw new RnnError(
      'WEIGHTS_INVALID',
      `prefix ${JSON.stringify(prefix)}: no tensor name starts with it (names are like ${some || 'nothing: the weights are empty'})`,
    );
  }
  return Object.fromEntries(names.map((n) => [n.slice(prefix.length), weights[n]]));
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
