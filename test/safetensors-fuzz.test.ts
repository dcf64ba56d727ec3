/**
 * Property-based fuzzing (fast-check) of the safetensors reader, which treats files as hostile:
 *  (a) whatever writeSafetensors writes, readSafetensors reads back equal (every writable dtype, scalars,
 *      zero-size dimensions, metadata, names with quotes, control characters and lone surrogates);
 *  (b) valid files of every dtype, assembled here, read as an independent decoder here says their bytes
 *      mean; mutated ones (bytes flipped, cut or inserted; the header size or the header's JSON edited to
 *      hostile values) and (c) random bytes either read that way too or throw an RnnError with code
 *      SAFETENSORS_INVALID: nothing else escapes, and the outcome does not depend on the input's alignment;
 *  (d) memory stays bounded by the input: no typed array the reader allocates, nor the sum of those it
 *      returns, holds more than 4 bytes per input byte (U8 widened to Int32Array is the most), whatever
 *      sizes the header claims; returned tensors own their memory.
 * A fixed seed keeps runs reproducible: FUZZ_SEED=<integer> tries another, FUZZ_RUNS=<n> runs n cases per
 * property (e.g. FUZZ_SEED=$RANDOM FUZZ_RUNS=100000 npx vitest run test/safetensors-fuzz.test.ts), and
 * FUZZ_STATS=1 prints how often each outcome (accepted, or each kind of rejection) came up.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { RnnError } from '../src/errors.js';
import { type SafetensorsFile, readSafetensors, writeSafetensors } from '../src/safetensors.js';
import type { IntTensor, Tensor } from '../src/tensor.js';

const SEED = envInteger('FUZZ_SEED', 20_261_201);
const RUNS = process.env.FUZZ_RUNS === undefined ? undefined : envInteger('FUZZ_RUNS', 0);
/** The most bytes of output per byte of input: U8 / I8 elements (1 byte) become Int32Array elements (4). */
const MAX_WIDENING = 4;
const HEADER_PREFIX = 8;

function envInteger(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(text)}`);
  return value;
}

let cases = 0;
const started = performance.now();
/** Outcomes by kind: "accepted", or an error message with its numbers and quoted names blanked. */
const outcomes = new Map<string, number>();
afterAll(() => {
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`safetensors fuzz: ${cases} cases in ${seconds} s (FUZZ_SEED=${SEED}${RUNS === undefined ? '' : ` FUZZ_RUNS=${RUNS}`})`);
  if (process.env.FUZZ_STATS) {
    for (const [kind, n] of [...outcomes].sort((a, b) => b[1] - a[1])) console.log(`${String(n).padStart(7)}  ${kind}`);
  }
});

function tally(outcome: Outcome): void {
  const kind =
    outcome.error === undefined
      ? 'accepted'
      : (outcome.error as Error).message
          .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
          .replace(/\(.*\)/, '(…)')
          .replace(/-?\d[\d.e+-]*/g, 'N')
          .replace(/\[[^\]]*\]/g, '[…]');
  outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
}

/** Runs a property `runs` times (or FUZZ_RUNS) from the fixed seed, counting its cases. */
function check<T>(arbitrary: fc.Arbitrary<T>, runs: number, predicate: (value: T) => void): void {
  fc.assert(
    fc.property(arbitrary, (value) => {
      cases++;
      predicate(value);
    }),
    { seed: SEED, numRuns: RUNS ?? runs },
  );
}

// ---- An independent decoder: what each dtype's bytes mean, written from the formats, not from src/ ----

type Dtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8';
type ArrayType = typeof Float64Array | typeof Float32Array | typeof Int32Array | typeof BigInt64Array;

/** An IEEE-style binary float of the given field widths (binary16: 5, 10; bfloat16: 8, 7) → its value. */
function minifloat(bits: number, exponentBits: number, fractionBits: number): number {
  const sign = bits >> (exponentBits + fractionBits) ? -1 : 1;
  const exponent = (bits >> fractionBits) & ((1 << exponentBits) - 1);
  const fraction = bits & ((1 << fractionBits) - 1);
  const bias = (1 << (exponentBits - 1)) - 1;
  if (exponent === (1 << exponentBits) - 1) return fraction ? NaN : sign * Infinity;
  if (exponent === 0) return sign * fraction * 2 ** (1 - bias - fractionBits);
  return sign * (1 + fraction * 2 ** -fractionBits) * 2 ** (exponent - bias);
}

const ELEMENTS: Record<Dtype, { size: number; array: ArrayType; get: (v: DataView, at: number) => number | bigint }> = {
  F64: { size: 8, array: Float64Array, get: (v, at) => v.getFloat64(at, true) },
  F32: { size: 4, array: Float32Array, get: (v, at) => v.getFloat32(at, true) },
  F16: { size: 2, array: Float32Array, get: (v, at) => minifloat(v.getUint16(at, true), 5, 10) },
  BF16: { size: 2, array: Float32Array, get: (v, at) => minifloat(v.getUint16(at, true), 8, 7) },
  I64: { size: 8, array: BigInt64Array, get: (v, at) => v.getBigInt64(at, true) },
  I32: { size: 4, array: Int32Array, get: (v, at) => v.getInt32(at, true) },
  I16: { size: 2, array: Int32Array, get: (v, at) => v.getInt16(at, true) },
  I8: { size: 1, array: Int32Array, get: (v, at) => v.getInt8(at) },
  U8: { size: 1, array: Int32Array, get: (v, at) => v.getUint8(at) },
};
const DTYPES = Object.keys(ELEMENTS) as Dtype[];

interface HeaderEntry {
  dtype: Dtype;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Asserts that an accepted file is what its bytes say: a header within the file, tensors exactly the
 * header's entries, each decoded from its own span, the spans tiling the data section.
 */
function expectConsistent(bytes: Uint8Array, file: SafetensorsFile): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataStart = HEADER_PREFIX + Number(view.getBigUint64(0, true));
  expect(dataStart).toBeLessThanOrEqual(bytes.length);
  // A byte-order mark is kept, and so is invalid JSON, as the reference implementation's parser sees it.
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(HEADER_PREFIX, dataStart));
  const header = JSON.parse(text) as Record<string, unknown>;
  // Every key in the text is a key of the parsed header: none was repeated, and so silently dropped.
  expect(keysIn(header)).toBe(colonsOutsideStrings(text));
  const { __metadata__: metadata = {}, ...entries } = header as Record<string, HeaderEntry>;
  expect(file.metadata).toEqual(metadata);
  expect(Object.keys(file.tensors).sort()).toEqual(Object.keys(entries).sort());
  const spans: [number, number][] = [];
  for (const [
    name,
    {
      dtype,
      shape,
      data_offsets: [begin, end],
    },
  ] of Object.entries(entries)) {
    const { size, array, get } = ELEMENTS[dtype];
    const { data } = file.tensors[name];
    expect(file.dtypes[name]).toBe(dtype);
    expect(file.tensors[name].shape).toEqual(shape.map((d) => d + 0));
    expect(data).toBeInstanceOf(array);
    expect(data.length).toBe(count(shape));
    expect(data.length * size).toBe(end - begin);
    for (let i = 0; i < data.length; i++) {
      const want = get(view, dataStart + begin + i * size);
      if (!Object.is(data[i], want)) expect.fail(`tensor ${JSON.stringify(name)} [${i}] = ${data[i]}, its bytes say ${want}`);
    }
    spans.push([begin, end]);
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let covered = 0;
  for (const [begin, end] of spans) {
    expect(begin).toBe(covered);
    covered = end;
  }
  expect(covered).toBe(bytes.length - dataStart);
}

/** Keys of a parsed JSON value and of every object within it. */
function keysIn(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Object.values(value);
  return (Array.isArray(value) ? 0 : children.length) + children.reduce((n: number, v) => n + keysIn(v), 0);
}

/** Colons of JSON text that are not inside strings: one per key, repeated or not. */
function colonsOutsideStrings(text: string): number {
  let colons = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    if (inString && text[i] === '\\') i++;
    else if (text[i] === '"') inString = !inString;
    else if (!inString && text[i] === ':') colons++;
  }
  return colons;
}

// ---- Reading under watch: every typed array and ArrayBuffer the reader constructs is measured ----

const TYPED_ARRAYS = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;
const originals = Object.fromEntries([...TYPED_ARRAYS, 'ArrayBuffer'].map((n) => [n, (globalThis as Record<string, unknown>)[n]]));
const OriginalArrayBuffer = ArrayBuffer;
let largestAllocation = 0;

/** Bytes a constructor call allocates: none for a view over an existing buffer. */
function allocatedBytes(bytesPerElement: number, [first]: unknown[]): number {
  if (typeof first === 'number') return first * bytesPerElement;
  if (first instanceof OriginalArrayBuffer || first instanceof SharedArrayBuffer) return 0;
  if (typeof first === 'object' && first !== null && 'length' in first) return Number(first.length) * bytesPerElement;
  return 0;
}

/**
 * The global typed-array and ArrayBuffer constructors, wrapped for the call's duration so that each
 * construction records its size (src/ looks them up at call time, as any module does). `.slice()`
 * allocates through the species constructor and is not seen; the reader's copies use constructors.
 */
const spies = Object.fromEntries(
  Object.entries(originals).map(([name, original]) => {
    const bytesPerElement = name === 'ArrayBuffer' ? 1 : (original as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    return [
      name,
      new Proxy(original as new (...args: unknown[]) => object, {
        construct(target, args, newTarget) {
          largestAllocation = Math.max(largestAllocation, allocatedBytes(bytesPerElement, args));
          return Reflect.construct(target, args, newTarget);
        },
      }),
    ];
  }),
);

interface Outcome {
  readonly file?: SafetensorsFile;
  readonly error?: unknown;
  readonly largest: number;
}

function readWatched(bytes: Uint8Array): Outcome {
  const global = globalThis as Record<string, unknown>;
  largestAllocation = 0;
  Object.assign(global, spies);
  try {
    return { file: readSafetensors(bytes), largest: largestAllocation };
  } catch (error) {
    return { error, largest: largestAllocation };
  } finally {
    Object.assign(global, originals);
  }
}

/** The same bytes at `byteOffset` of a larger buffer (0: a fresh aligned copy). */
function at(byteOffset: number, bytes: Uint8Array): Uint8Array {
  const backing = new Uint8Array(byteOffset + bytes.length + 3);
  backing.set(bytes, byteOffset);
  return backing.subarray(byteOffset, byteOffset + bytes.length);
}

/**
 * The property every input must satisfy: read at two alignments, the outcome is the same; it is either a
 * SAFETENSORS_INVALID RnnError or a file consistent with the bytes whose tensors own their memory; and
 * neither reading allocates more than MAX_WIDENING bytes per input byte.
 */
function expectHandled(bytes: Uint8Array, shift: number): Outcome {
  const aligned = readWatched(at(0, bytes));
  const shifted = readWatched(at(shift, bytes));
  for (const outcome of [aligned, shifted]) {
    expect(outcome.largest).toBeLessThanOrEqual(MAX_WIDENING * bytes.length);
    if (outcome.error === undefined) continue;
    const { error } = outcome;
    if (!(error instanceof RnnError) || error.code !== 'SAFETENSORS_INVALID') {
      expect.fail(`escaped: ${(error as Error)?.constructor?.name} ${String((error as Error)?.message ?? error)}`);
    }
    expect(error.message).toMatch(/^(safetensors|readSafetensors): /);
  }
  tally(aligned);
  if (aligned.error !== undefined) {
    expect((shifted.error as Error | undefined)?.message).toBe((aligned.error as Error).message);
    return aligned;
  }
  expect(shifted.file).toEqual(aligned.file);
  const file = aligned.file!;
  expectConsistent(bytes, file);
  let total = 0;
  for (const { data } of Object.values(file.tensors)) {
    expect(data.byteOffset).toBe(0);
    expect(data.buffer.byteLength).toBe(data.byteLength); // its own buffer, not a view of the input
    total += data.byteLength;
  }
  expect(total).toBeLessThanOrEqual(MAX_WIDENING * bytes.length);
  return aligned;
}

// ---- Arbitraries ----

/** Characters of names: mostly plain, some that need JSON escapes, any code point, lone surrogates. */
const nameUnit = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'abw0._') },
  { weight: 1, arbitrary: fc.constantFrom('"', '\\', '\n', '\u0000', '\u2028', '\ufeff', '__proto__', '__metadata__x') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
);
const nameArb = fc.string({ unit: nameUnit, maxLength: 6 }).filter((n) => n !== '__metadata__');
const metadataArb = fc.uniqueArray(fc.tuple(nameArb, fc.string({ unit: nameUnit, maxLength: 8 })), {
  selector: ([key]) => key,
  maxLength: 3,
});
/** Shapes of up to 3 dimensions of up to 4, so scalars ([]) and zero-size tensors come often. */
const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });
const count = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

interface FileSpec {
  readonly tensors: { name: string; dtype: Dtype; shape: number[] }[];
  readonly metadata: [string, string][] | null;
  readonly padding: number;
  readonly reversed: boolean;
}

const fileSpecArb: fc.Arbitrary<FileSpec> = fc.record({
  tensors: fc.uniqueArray(fc.record({ name: nameArb, dtype: fc.constantFrom(...DTYPES), shape: shapeArb }), {
    selector: (t) => t.name,
    maxLength: 5,
  }),
  metadata: fc.option(metadataArb),
  padding: fc.integer({ min: 0, max: 9 }),
  reversed: fc.boolean(),
});

/** A valid file of any dtypes, assembled here: tensors in listed order, random bytes as their data. */
function assemble(spec: FileSpec, data: Uint8Array): Uint8Array {
  const fields: string[] = [];
  if (spec.metadata) {
    fields.push(`"__metadata__":{${spec.metadata.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  }
  let offset = 0;
  for (const { name, dtype, shape } of spec.tensors) {
    const end = offset + count(shape) * ELEMENTS[dtype].size;
    fields.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype, shape, data_offsets: [offset, end] })}`);
    offset = end;
  }
  if (spec.reversed) fields.reverse();
  return withHeader(`{${fields.join(',')}}${' '.repeat(spec.padding)}`, data);
}

function dataBytes(spec: FileSpec): number {
  return spec.tensors.reduce((n, t) => n + count(t.shape) * ELEMENTS[t.dtype].size, 0);
}

/** Header-size prefix (the header's length unless `declared`), header text, data. */
function withHeader(header: string | Uint8Array, data: Uint8Array, declared?: bigint): Uint8Array {
  const text = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(HEADER_PREFIX + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(text.length), true);
  out.set(text, HEADER_PREFIX);
  out.set(data, HEADER_PREFIX + text.length);
  return out;
}

const validFileArb = fileSpecArb.chain((spec) => {
  const n = dataBytes(spec);
  return fc.uint8Array({ minLength: n, maxLength: n }).map((data) => assemble(spec, data));
});

/** A file's parts, when its header size fits and its header parses as a JSON object. */
function split(file: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } | undefined {
  if (file.length < HEADER_PREFIX) return undefined;
  const size = new DataView(file.buffer, file.byteOffset).getBigUint64(0, true);
  if (size > BigInt(file.length - HEADER_PREFIX)) return undefined;
  const end = HEADER_PREFIX + Number(size);
  try {
    const header: unknown = JSON.parse(new TextDecoder().decode(file.subarray(HEADER_PREFIX, end)));
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined;
    return { header: header as Record<string, unknown>, data: file.subarray(end) };
  } catch {
    return undefined;
  }
}

/**
 * Stands for `[[[…1…]]]` nested `depth` deep: past 3 no header is valid, and at 100 000 JSON.stringify of the
 * parsed value overflows the stack; written as a string and spliced in by `stringify` as text.
 */
const deep = (depth: number) => `\u0000deep:${depth}\u0000`;
const DEEP_PATTERN = /"\\u0000deep:(\d+)\\u0000"/g;
const deepText = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

/** Values a hostile header puts where a dtype, shape, offset pair, entry or metadata map belongs. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom<unknown>(
      [1e9, 1e9],
      [2 ** 53, 2 ** 53],
      [2 ** 40, 2 ** 40, 2 ** 40],
      [2 ** 53 - 1, 2 ** 53 - 1, 0],
      [1e300, 1e300, 0],
      [-1],
      [1.5],
      ['2'],
      [null],
      [true],
      [[1]],
      [{}],
      [],
      [0],
      [0, 1, 2],
      [1, 0],
      [0, 2 ** 64],
      [2 ** 53, 2 ** 53 + 8],
      [-0, 0],
      [-0],
      4,
      -1,
      0.5,
      1e308,
      -0,
      2 ** 64,
      '',
      'F32',
      'U32',
      'f32',
      'BOOL',
      '__metadata__',
      null,
      true,
      {},
      { a: 1 },
      { a: [] },
      { dtype: 'F32' },
      { dtype: 'F32', shape: [], data_offsets: [0, 4] },
      new Array(10_000).fill(0),
      'x'.repeat(10_000),
    ),
  },
  fc.constantFrom(2, 4, 100, 100_000).map(deep),
  fc.jsonValue({ maxDepth: 3 }),
  fc.tuple(fc.integer({ min: -8, max: 2 ** 53 }), fc.integer({ min: -8, max: 2 ** 53 })),
  fc.array(fc.oneof(fc.nat(8), fc.constantFrom(2 ** 31, 2 ** 32, 2 ** 53 - 1, 1e9)), { maxLength: 6 }),
);

function stringify(value: unknown): string {
  return JSON.stringify(value).replace(DEEP_PATTERN, (_, depth: string) => deepText(Number(depth)));
}

/** The header's values that look like tensor entries. */
function tensorEntries(header: Record<string, unknown>): HeaderEntry[] {
  return Object.values(header).filter((e): e is HeaderEntry => typeof e === 'object' && e !== null && 'data_offsets' in e);
}

/** One edit of the parsed header, returning its new JSON text; labelled for counterexamples. */
interface HeaderEdit {
  readonly label: string;
  readonly edit: (header: Record<string, unknown>) => string;
}

/** Shown by fast-check in a counterexample instead of the function's source. */
function labelled<T extends { label: string }>(value: T): T {
  return Object.assign(value, { [fc.toStringMethod]: () => value.label });
}

function show(value: unknown): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the marker a generator wraps in NUL characters
  const depth = typeof value === 'string' ? /^\u0000deep:(\d+)\u0000$/.exec(value)?.[1] : undefined;
  return depth !== undefined ? `an array nested ${depth} deep` : fc.stringify(value).slice(0, 60);
}

const headerEditArb: fc.Arbitrary<HeaderEdit> = fc.oneof(
  // A field of an entry (or the entry, or __metadata__, or a new key) set to a hostile value.
  {
    weight: 4,
    arbitrary: fc.tuple(fc.nat(), fc.constantFrom('dtype', 'shape', 'data_offsets', 'extra', null), hostileValue).map(([pick, field, value]) =>
      labelled<HeaderEdit>({
        label: `key #${pick} ${field ?? 'itself'} = ${show(value)}`,
        edit: (h) => {
          const keys = [...Object.keys(h), 'new'];
          const key = keys[pick % keys.length];
          const entry = h[key];
          if (field === null || typeof entry !== 'object' || entry === null) h[key] = value;
          else (entry as Record<string, unknown>)[field] = value;
          return stringify(h);
        },
      }),
    ),
  },
  // A field deleted; offsets moved by a little (holes, overlaps, spans that disagree with shapes).
  fc.tuple(fc.nat(), fc.constantFrom('dtype', 'shape', 'data_offsets'), fc.integer({ min: -9, max: 9 }), fc.boolean()).map(([pick, field, delta, remove]) =>
    labelled<HeaderEdit>({
      label: remove ? `entry #${pick} without ${field}` : `entry #${pick} offsets + ${delta}`,
      edit: (h) => {
        const entries = tensorEntries(h);
        const entry = entries[pick % Math.max(1, entries.length)];
        if (entry && remove) delete (entry as Partial<HeaderEntry>)[field];
        else if (entry && Array.isArray(entry.data_offsets)) entry.data_offsets = entry.data_offsets.map((o) => o + delta) as [number, number];
        return stringify(h);
      },
    }),
  ),
  // An entry grown or shrunk by whole elements, shape and end together: overlaps, holes, spans past the end.
  fc.tuple(fc.nat(), fc.integer({ min: -3, max: 3 })).map(([pick, delta]) =>
    labelled<HeaderEdit>({
      label: `entry #${pick} grown by ${delta} elements`,
      edit: (h) => {
        const entries = tensorEntries(h);
        const entry = entries[pick % Math.max(1, entries.length)];
        const size = ELEMENTS[entry?.dtype]?.size;
        if (size !== undefined && Array.isArray(entry.shape) && Array.isArray(entry.data_offsets)) {
          const [begin, end] = entry.data_offsets;
          const elements = Math.max(0, (end - begin) / size + delta);
          entry.shape = [elements];
          entry.data_offsets = [begin, begin + elements * size];
        }
        return stringify(h);
      },
    }),
  ),
  // One entry given another's offsets (overlap), and a dtype swapped for another of the same size or not.
  fc.tuple(fc.nat(), fc.nat(), fc.constantFrom(...DTYPES)).map(([a, b, dtype]) =>
    labelled<HeaderEdit>({
      label: `entry #${a} takes #${b}'s offsets, #${b} becomes ${dtype}`,
      edit: (h) => {
        const entries = tensorEntries(h);
        if (entries.length > 0) {
          entries[a % entries.length].data_offsets = entries[b % entries.length].data_offsets;
          entries[b % entries.length].dtype = dtype;
        }
        return stringify(h);
      },
    }),
  ),
  // A key repeated (JSON.parse would keep only the last), within the header or within an entry.
  fc.tuple(fc.nat(), fc.boolean()).map(([pick, inner]) =>
    labelled<HeaderEdit>({
      label: `key #${pick} repeated${inner ? ' inside its entry' : ''}`,
      edit: (h) => {
        const text = stringify(h);
        const keys = Object.keys(h);
        if (keys.length === 0) return text;
        const key = keys[pick % keys.length];
        if (inner && typeof h[key] === 'object' && h[key] !== null && !Array.isArray(h[key])) {
          return text.replace(`${JSON.stringify(key)}:{`, `${JSON.stringify(key)}:{"dtype":"F32",`);
        }
        return `{${JSON.stringify(key)}:${stringify(h[key])},${text.slice(1)}`;
      },
    }),
  ),
  fc.constant(labelled<HeaderEdit>({ label: 'byte-order mark', edit: (h) => `\ufeff${stringify(h)}` })),
  hostileValue.map((value) => labelled<HeaderEdit>({ label: `header = ${show(value)}`, edit: () => stringify(value) })),
);

interface Mutation {
  readonly label: string;
  readonly apply: (file: Uint8Array) => Uint8Array;
}
const mutation = (label: string, apply: Mutation['apply']): Mutation => labelled({ label, apply });

/** Declared header sizes: the edges, past the file, past the limit, up to 2^64 − 1, and near the truth. */
const declaredSizeArb = fc.oneof(
  fc.constantFrom(0n, 1n, 7n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 100_000_000n, 100_000_001n),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
);

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean()).map(([pick, bits, fromEnd]) =>
    mutation(`byte #${pick}${fromEnd ? ' from the end' : ''} ^= ${bits}`, (f) => {
      const g = f.slice();
      if (g.length > 0) g[fromEnd ? g.length - 1 - (pick % g.length) : pick % g.length] ^= bits; // from the end: mostly data
      return g;
    }),
  ),
  fc.nat().map((pick) => mutation(`cut at #${pick}`, (f) => f.slice(0, pick % (f.length + 1)))),
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([pick, bytes]) =>
    mutation(`insert [${bytes.join(',')}] at #${pick}`, (f) => {
      const i = pick % (f.length + 1);
      return Uint8Array.from([...f.subarray(0, i), ...bytes, ...f.subarray(i)]);
    }),
  ),
  fc
    .oneof(
      declaredSizeArb.map((size) => ({ size, delta: 0n })),
      fc.integer({ min: -9, max: 9 }).map((d) => ({ size: -1n, delta: BigInt(d) })),
    )
    .map(({ size, delta }) =>
      mutation(size < 0n ? `header size + ${delta}` : `header size = ${size}`, (f) => {
        if (f.length < HEADER_PREFIX) return f;
        const g = f.slice();
        const view = new DataView(g.buffer);
        view.setBigUint64(0, size < 0n ? BigInt.asUintN(64, view.getBigUint64(0, true) + delta) : size, true);
        return g;
      }),
    ),
  // The header's JSON edited, and its size updated (mostly) or left as it was.
  {
    weight: 8,
    arbitrary: fc.tuple(headerEditArb, fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, fc.constant(true))).map(([{ label, edit }, keepSize]) =>
      mutation(`header edit: ${label}${keepSize ? ' (old size kept)' : ''}`, (f) => {
        const parts = split(f);
        if (parts === undefined) return f;
        let edited: string;
        try {
          edited = edit(parts.header);
        } catch (err) {
          if (err instanceof RangeError) return f; // nested 100 000 deep by an earlier edit: JSON.stringify overflows
          throw err;
        }
        const declared = keepSize ? new DataView(f.buffer, f.byteOffset).getBigUint64(0, true) : undefined;
        return withHeader(new TextEncoder().encode(edited), parts.data, declared);
      }),
    ),
  },
);

const shiftArb = fc.integer({ min: 1, max: 7 });

// ---- Properties ----

describe('safetensors fuzzing', () => {
  it('(a) round trip: what writeSafetensors writes reads back equal', () => {
    type Kind = 'f32' | 'f64' | 'i32' | 'i64';
    const dataArb = (kind: Kind, n: number): fc.Arbitrary<Tensor['data'] | IntTensor['data']> => {
      const length = { minLength: n, maxLength: n };
      return { f32: fc.float32Array(length), f64: fc.float64Array(length), i32: fc.int32Array(length), i64: fc.bigInt64Array(length) }[kind];
    };
    const tensorArb = fc
      .tuple(fc.constantFrom<Kind>('f32', 'f64', 'i32', 'i64'), shapeArb)
      .chain(([kind, shape]) => dataArb(kind, count(shape)).map((data) => ({ shape, data }) as Tensor | IntTensor));
    const caseArb = fc.record({
      tensors: fc.uniqueArray(fc.tuple(nameArb, tensorArb), { selector: ([name]) => name, maxLength: 6 }),
      metadata: metadataArb,
      floatDtype: fc.constantFrom<'F32' | 'F64'>('F32', 'F64'),
      shift: shiftArb,
    });
    check(caseArb, 1500, ({ tensors, metadata, floatDtype, shift }) => {
      const bytes = writeSafetensors(Object.fromEntries(tensors), { floatDtype, metadata: Object.fromEntries(metadata) });
      const { file } = expectHandled(bytes, shift);
      expect(file).toBeDefined();
      expect(file!.metadata).toEqual(Object.fromEntries(metadata));
      for (const [name, { shape, data }] of tensors) {
        const want =
          data instanceof Float32Array || data instanceof Float64Array ? (floatDtype === 'F32' ? Float32Array.from(data) : Float64Array.from(data)) : data;
        expect(file!.dtypes[name]).toBe(data instanceof Int32Array ? 'I32' : data instanceof BigInt64Array ? 'I64' : floatDtype);
        expect(file!.tensors[name]).toEqual({ shape, data: want });
      }
    });
  });

  it('(b) valid files of every dtype read as their bytes say, at any alignment', () => {
    check(fc.tuple(validFileArb, shiftArb), 800, ([bytes, shift]) => {
      expect(expectHandled(bytes, shift).error).toBeUndefined();
    });
  });

  it('(b) mutated files: a consistent result or RnnError SAFETENSORS_INVALID, never anything else', () => {
    const arb = fc.tuple(validFileArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), shiftArb);
    check(arb, 4000, ([valid, mutations, shift]) => {
      const bytes = mutations.reduce((f, m) => m.apply(f), valid);
      expectHandled(bytes, shift);
    });
  });

  it('(c) random bytes, random headers: the same property', () => {
    const randomHeader = fc.oneof(fc.json({ maxDepth: 4 }), hostileValue.map(stringify), fc.string({ unit: 'binary', maxLength: 40 }));
    const arb = fc.tuple(
      fc.oneof(
        fc.uint8Array({ maxLength: 96 }),
        // A header size that fits, then random bytes: gets past the prefix check to the UTF-8 and JSON checks.
        fc.tuple(fc.uint8Array({ maxLength: 96 }), fc.nat()).map(([rest, n]) => {
          const headerBytes = n % (rest.length + 1);
          return withHeader(rest.subarray(0, headerBytes), rest.subarray(headerBytes));
        }),
        fc.tuple(randomHeader, fc.uint8Array({ maxLength: 32 })).map(([text, data]) => withHeader(text, data)),
      ),
      shiftArb,
    );
    check(arb, 3000, ([bytes, shift]) => {
      expectHandled(bytes, shift);
    });
  });

  it('(d) memory: huge claimed shapes, offsets and header sizes allocate nothing proportional to them', () => {
    const bigDim = fc.oneof(fc.nat(4), fc.constantFrom(1e9, 2 ** 31, 2 ** 32, 2 ** 53 - 1), fc.integer({ min: 0, max: 2 ** 53 - 1 }));
    const bigOffset = fc.oneof(fc.nat(64), fc.integer({ min: 0, max: 2 ** 53 - 1 }));
    const entryArb = fc.record({
      dtype: fc.constantFrom(...DTYPES),
      shape: fc.array(bigDim, { maxLength: 4 }),
      data_offsets: fc.tuple(bigOffset, bigOffset),
    });
    const arb = fc.tuple(
      fc.dictionary(fc.string({ maxLength: 3 }), entryArb, { minKeys: 1, maxKeys: 3 }),
      fc.uint8Array({ maxLength: 64 }),
      fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: declaredSizeArb }),
      shiftArb,
    );
    check(arb, 1500, ([header, data, declared, shift]) => {
      expectHandled(withHeader(JSON.stringify(header), data, declared), shift);
    });
  });

  it('(d) the hostile headers named in the issue are rejected, allocating no more than the file holds', () => {
    const w = (entry: Record<string, unknown>, data = 16) =>
      withHeader(JSON.stringify({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16], ...entry } }), new Uint8Array(data));
    const hostile: Record<string, Uint8Array> = {
      'header size 2^64 - 1': withHeader('{}', new Uint8Array(0), 2n ** 64n - 1n),
      'shape [1e9, 1e9]': w({ shape: [1e9, 1e9] }),
      'shape [1e9, 1e9], offsets to match': w({ shape: [1e9, 1e9], data_offsets: [0, 4e18] }),
      'dims whose product overflows 2^53, and a 0': w({ shape: [2 ** 53 - 1, 2 ** 53 - 1, 2 ** 53 - 1, 0] }),
      'data_offsets past the end': w({ data_offsets: [0, 2 ** 53 - 1] }),
      'overlapping offsets': withHeader(
        JSON.stringify({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } }),
        new Uint8Array(24),
      ),
      'holed offsets': w({ shape: [2], data_offsets: [8, 16] }),
      'negative dim': w({ shape: [-4] }),
      'fractional dim': w({ shape: [4.5] }),
      'non-number dim': w({ shape: ['4'] }),
      'shape not an array': w({ shape: { 0: 4 } }),
      'unknown dtype': w({ dtype: 'F8_E4M3' }),
      'duplicate keys': withHeader(`{"w":{},"w":${JSON.stringify({ dtype: 'F32', shape: [4], data_offsets: [0, 16] })}}`, new Uint8Array(16)),
      '__metadata__ of the wrong type': withHeader('{"__metadata__":["pt"]}', new Uint8Array(0)),
      'non-UTF-8 header bytes': withHeader(new Uint8Array([0x7b, 0xff, 0x7d]), new Uint8Array(0)),
      'header not an object': withHeader('[{"dtype":"F32","shape":[1e9],"data_offsets":[0,4e9]}]', new Uint8Array(0)),
      'shape nested 100 000 deep': withHeader(`{"w":{"dtype":"U8","shape":${deepText(100_000)},"data_offsets":[0,1]}}`, new Uint8Array(1)),
    };
    for (const [what, bytes] of Object.entries(hostile)) {
      const { error, largest } = readWatched(bytes);
      expect(error, what).toBeInstanceOf(RnnError);
      expect((error as RnnError).code, what).toBe('SAFETENSORS_INVALID');
      expect(largest, what).toBeLessThanOrEqual(MAX_WIDENING * bytes.length);
    }
  });
});
