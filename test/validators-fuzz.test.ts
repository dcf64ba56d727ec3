// Property-based fuzzing (fast-check) of what every public entry runs first: the configuration
// resolver, the forward-input checks and createRnn's option and weight checks (CPU backend, so
// thousands of cases run in seconds). For any value a caller can pass, the only thing that may escape is
// an RnnError with one of the codes the contract names; valid values are accepted and mean what
// PyTorch means. FUZZ_SEED / FUZZ_RUNS reproduce or widen a run.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RnnConfig, type RnnConfigInput, resolveConfig } from '../src/config.js';
import { RnnError, type RnnErrorCode } from '../src/errors.js';
import { prepareInputs } from '../src/inputs.js';
import { createRnn } from '../src/rnn.js';
import { randomCase } from './support/random.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261128);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const params = (runs = RUNS) => ({ seed: SEED, numRuns: runs });

/** Runs `f`; passes when it returns, or throws an RnnError whose code is one of `codes`. */
function onlyRnnError(codes: readonly RnnErrorCode[], f: () => unknown): 'ok' | RnnErrorCode {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!(e instanceof RnnError)) throw new Error(`a non-library error escaped: ${(e as Error)?.stack ?? String(e)}`);
    if (!codes.includes(e.code)) throw new Error(`unexpected code ${e.code}: ${e.message}`);
    if (e.message.length === 0 || e.message.length > 2000) throw new Error(`a message of ${e.message.length} characters`);
    return e.code;
  }
}

async function onlyRnnErrorAsync(codes: readonly RnnErrorCode[], f: () => Promise<unknown>): Promise<'ok' | RnnErrorCode> {
  try {
    await f();
    return 'ok';
  } catch (e) {
    return onlyRnnError(codes, () => {
      throw e;
    });
  }
}

/** Any JavaScript value a careless caller might pass, biased toward near-misses of the right thing. */
const anything = fc.oneof(
  fc.anything({ withBigInt: true, withTypedArray: true, withNullPrototype: true, withSparseArray: true, withBoxedValues: true }),
  fc.constantFrom(null, undefined, Number.NaN, Number.POSITIVE_INFINITY, -0, 1.5, -1, 0, 2 ** 53, '3', 'LSTM', 'RNN', true, []),
);

const validConfig: fc.Arbitrary<RnnConfigInput> = fc.record(
  {
    mode: fc.constantFrom('LSTM', 'GRU', 'RNN_TANH', 'RNN_RELU', 'RNN'),
    input_size: fc.integer({ min: 1, max: 64 }),
    hidden_size: fc.integer({ min: 1, max: 64 }),
    num_layers: fc.integer({ min: 1, max: 4 }),
    bias: fc.boolean(),
    batch_first: fc.boolean(),
    bidirectional: fc.boolean(),
    dropout: fc.double({ min: 0, max: 1, noNaN: true }),
  },
  { requiredKeys: ['mode', 'input_size', 'hidden_size'] },
) as fc.Arbitrary<RnnConfigInput>;

describe('resolveConfig (fuzzed)', () => {
  it('accepts every valid configuration and fills PyTorch defaults', () => {
    fc.assert(
      fc.property(validConfig, (input) => {
        const c = resolveConfig(input);
        expect(c.mode).toBe(input.mode === 'RNN' ? 'RNN_TANH' : input.mode);
        expect(c.num_layers).toBe(input.num_layers ?? 1);
        expect(c.bias).toBe(input.bias ?? true);
        expect(c.batch_first).toBe(input.batch_first ?? false);
        expect(c.bidirectional).toBe(input.bidirectional ?? false);
        expect(c.proj_size).toBe(0);
      }),
      params(),
    );
  });

  it('for a valid configuration with one key spoiled, throws CONFIG_INVALID naming that key (or accepts an equivalent value)', () => {
    const keys = ['mode', 'input_size', 'hidden_size', 'num_layers', 'bias', 'batch_first', 'bidirectional', 'dropout', 'proj_size', 'nonlinearity'] as const;
    fc.assert(
      fc.property(validConfig, fc.constantFrom(...keys), anything, (input, key, value) => {
        const spoiled = { ...input, [key]: value };
        const outcome = onlyRnnError(['CONFIG_INVALID'], () => resolveConfig(spoiled as never));
        if (outcome === 'CONFIG_INVALID') {
          try {
            resolveConfig(spoiled as never);
          } catch (e) {
            // The message names the key at fault (or the contradiction proj_size / nonlinearity / mode makes).
            expect((e as Error).message).toMatch(new RegExp(`config\\.(${key}|proj_size|nonlinearity|mode)|config: `));
          }
        }
      }),
      params(),
    );
  });

  it('for any value at all, returns a configuration or throws CONFIG_INVALID', () => {
    fc.assert(
      fc.property(anything, (value) => {
        onlyRnnError(['CONFIG_INVALID'], () => resolveConfig(value as never));
      }),
      params(),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('mode', 'input_size', 'hidden_size', 'proj_size', 'x', '__proto__', 'constructor'), anything), (value) => {
        onlyRnnError(['CONFIG_INVALID'], () => resolveConfig(value as never));
      }),
      params(),
    );
  });
});

/** A config and a valid input for it; the property then spoils one part. */
const problem = fc.record({
  config: validConfig.map((c) => resolveConfig(c)),
  T: fc.integer({ min: 1, max: 5 }),
  B: fc.integer({ min: 1, max: 4 }),
});

function validInput(config: RnnConfig, T: number, B: number) {
  const shape = config.batch_first ? [B, T, config.input_size] : [T, B, config.input_size];
  return { shape, data: new Float32Array(T * B * config.input_size).fill(0.25) };
}

describe('prepareInputs (fuzzed)', () => {
  it('accepts a valid input and lengths, returns them time-major', () => {
    fc.assert(
      fc.property(problem, ({ config, T, B }) => {
        const lengths = Array.from({ length: B }, (_, b) => 1 + (b % T));
        const p = prepareInputs(config, validInput(config, T, B), { lengths });
        expect([p.T, p.B, p.x.length]).toEqual([T, B, T * B * config.input_size]);
        expect(Array.from(p.lengths!)).toEqual(lengths);
      }),
      params(),
    );
  });

  it('for any input, h0, c0, lengths or options value, returns or throws TENSOR_INVALID / OPTION_INVALID / LIMIT_EXCEEDED', () => {
    const codes: RnnErrorCode[] = ['TENSOR_INVALID', 'OPTION_INVALID', 'LIMIT_EXCEEDED'];
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(
        problem,
        fc.constantFrom('input', 'input.shape', 'input.data', 'h0', 'c0', 'lengths', 'options', 'option key'),
        anything,
        fc.string(),
        ({ config, T, B }, where, value, key) => {
          const input: Record<string, unknown> = validInput(config, T, B);
          let options: Record<string, unknown> = {};
          let arg: unknown = input;
          if (where === 'input') arg = value;
          else if (where === 'input.shape') input.shape = value;
          else if (where === 'input.data') input.data = value;
          else if (where === 'options') options = value as never;
          else if (where === 'option key') options = { [key]: value };
          else options = { [where]: value };
          const outcome = onlyRnnError(codes, () => prepareInputs(config, arg as never, options as never));
          seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
        },
      ),
      params(4 * RUNS),
    );
    // The fuzzer reached both sides: rejections of each kind, and values that were accepted.
    expect([...seen.keys()].sort()).toEqual(expect.arrayContaining(['OPTION_INVALID', 'TENSOR_INVALID', 'ok']));
  });

  it('shapes: any array of numbers as input.shape, with data to match or not', () => {
    fc.assert(
      fc.property(problem, fc.array(fc.oneof(fc.integer({ min: -2, max: 9 }), fc.double()), { maxLength: 5 }), fc.boolean(), ({ config }, shape, matching) => {
        const n = shape.every((d) => Number.isInteger(d) && d >= 0) ? shape.reduce((a, b) => a * b, 1) : 3;
        const data = new Float64Array(matching && n < 1e6 ? n : 7);
        onlyRnnError(['TENSOR_INVALID', 'LIMIT_EXCEEDED'], () => prepareInputs(config, { shape, data }));
      }),
      params(),
    );
  });
});

describe('createRnn (fuzzed, CPU backend)', () => {
  const c = randomCase({ mode: 'GRU', input_size: 2, hidden_size: 3 }, 90, { T: 2, B: 1 });

  it('for any options object, weights value or single spoiled weight tensor, builds a model or rejects with a contract code', async () => {
    const codes: RnnErrorCode[] = ['OPTION_INVALID', 'CONFIG_INVALID', 'WEIGHTS_INVALID', 'SAFETENSORS_INVALID', 'NON_FINITE'];
    const names = Object.keys(c.weights);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('options', 'weights', 'tensor', 'tensor.data', 'tensor.shape', 'option'),
        anything,
        fc.constantFrom(...names),
        fc.constantFrom('prefix', 'checkFinite', 'backend', 'strategy', 'precision', 'device', 'bogus'),
        async (where, value, name, option) => {
          const options: Record<string, unknown> = { config: c.config, weights: c.weights, backend: 'cpu' };
          if (where === 'options') return void (await onlyRnnErrorAsync(codes, () => createRnn(value as never)));
          if (where === 'weights') options.weights = value;
          if (where === 'option') options[option] = value;
          if (where.startsWith('tensor')) {
            const t = where === 'tensor' ? value : { ...c.weights[name], [where.slice(7)]: value };
            options.weights = { ...c.weights, [name]: t };
          }
          // (A fuzzed backend that is valid would not be 'cpu'; none of fast-check's values spells "webgpu" or "auto".)
          await onlyRnnErrorAsync(codes, async () => {
            const m = await createRnn(options as never);
            m.destroy();
          });
        },
      ),
      { ...params(RUNS), interruptAfterTimeLimit: 20_000 },
    );
  }, 60_000);
});
