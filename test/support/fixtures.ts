/**
 * PyTorch fixtures (test/fixtures/, written by generate.py) for Node and the browser alike: the
 * caller supplies how to fetch a file's bytes; everything else is shared.
 */
import type { RnnConfigInput } from '../../src/config.js';
import type { ForwardOptions } from '../../src/inputs.js';
import { readSafetensors } from '../../src/safetensors.js';
import type { IntTensor, Tensor } from '../../src/tensor.js';

export interface FixtureCase {
  name: string;
  file: string;
  config: RnnConfigInput & Record<string, unknown>;
  T: number;
  B: number;
  has_h0: boolean;
  has_c0: boolean;
  has_lengths: boolean;
  saturating: boolean;
}

export interface Manifest {
  generator: string;
  torch_version: string;
  cases: FixtureCase[];
}

export interface Fixture {
  meta: FixtureCase;
  weights: Record<string, Tensor>;
  input: Tensor;
  options: ForwardOptions;
  expected: { output: Tensor; h_n: Tensor; c_n?: Tensor };
}

/** Reads a file under test/fixtures/ by its relative name. */
export type LoadBytes = (relativePath: string) => Promise<Uint8Array>;

const NON_WEIGHTS = new Set(['input', 'h0', 'c0', 'lengths', 'output', 'h_n', 'c_n']);

export async function loadManifest(load: LoadBytes): Promise<Manifest> {
  return JSON.parse(new TextDecoder().decode(await load('manifest.json'))) as Manifest;
}

export async function loadFixture(load: LoadBytes, meta: FixtureCase): Promise<Fixture> {
  const { tensors } = readSafetensors(await load(meta.file));
  const float = (name: string) => tensors[name] as Tensor | undefined;
  const weights: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) if (!NON_WEIGHTS.has(name)) weights[name] = t as Tensor;
  return {
    meta,
    weights,
    input: float('input')!,
    options: { h0: float('h0'), c0: float('c0'), lengths: tensors.lengths as IntTensor | undefined },
    expected: { output: float('output')!, h_n: float('h_n')!, c_n: float('c_n') },
  };
}
