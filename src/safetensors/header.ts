/**
 * The header of a safetensors file, treated as hostile: parseHeader decodes and parses its JSON after a
 * scan that bounds its nesting and before a count that catches a repeated key; parseMetadata and
 * parseEntry check the "__metadata__" map and each tensor's entry (dtype, shape, data_offsets against the
 * data section); checkLayout checks that the entries tile the data section exactly.
 */
import { READERS } from './decode.js';
import { MAX_HEADER_DEPTH, METADATA_KEY, elementCount, isRecord } from './format.js';
import { describeJson, fail, quote, showJson, showShape } from './messages.js';
import type { SafetensorsDtype } from './types.js';

/** An entry of the header, checked against the data section. */
export interface TensorEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

/** The header's [key, value] pairs, in file order, once it is known to be a JSON object with no key repeated. */
export function parseHeader(headerBytes: Uint8Array): [string, unknown][] {
  let text: string;
  try {
    // ignoreBOM keeps a leading U+FEFF in the text, so JSON.parse rejects it as the reference does.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    fail('header is not valid UTF-8');
  }
  const { keys } = scanHeader(text, false);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    fail(`header is not valid JSON (${(err as Error).message})`);
  }
  if (!isRecord(header)) fail(`header must be a JSON object, got ${describeJson(header)}`);
  const fields = Object.entries(header);
  // JSON.parse keeps only the last of a repeated key; fewer keys parsed than written means one was.
  if (fields.reduce((n, [, value]) => n + countKeys(value, 2), fields.length) !== keys) {
    fail(`header repeats the key ${quote(scanHeader(text, true).repeated ?? '?')} within one object`);
  }
  return fields;
}

/** Character codes the header scan looks for. */
const CHAR = {
  quote: 0x22,
  backslash: 0x5c,
  colon: 0x3a,
  comma: 0x2c,
  openObject: 0x7b,
  closeObject: 0x7d,
  openArray: 0x5b,
  closeArray: 0x5d,
};

/**
 * One pass over the header text, safe on any text (whether it is JSON is left to JSON.parse): rejects
 * nesting deeper than a header has, before JSON.parse builds anything, so that nothing later recurses
 * or holds more than flat arrays; counts the keys written (in JSON a colon outside strings follows each);
 * and when asked (an error path: it costs a Set per object), finds the first key repeated within one object.
 */
function scanHeader(text: string, findRepeated: boolean): { keys: number; repeated?: string } {
  const open: (Set<string> | null)[] = []; // per open container: its keys so far (object) or null (array)
  let keys = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === CHAR.quote) {
      const j = closingQuote(text, i);
      const seen = open[open.length - 1];
      if (findRepeated && expectKey && seen) {
        const key = unescapeKey(text.slice(i + 1, j));
        if (seen.has(key)) return { keys, repeated: key };
        seen.add(key);
      }
      expectKey = false;
      i = j;
    } else if (c === CHAR.colon) {
      keys++;
    } else if (c === CHAR.openObject || c === CHAR.openArray) {
      if (open.length === MAX_HEADER_DEPTH) {
        fail(`header nests deeper than ${MAX_HEADER_DEPTH} levels (header → tensor entry → shape), which no valid header does`);
      }
      open.push(c === CHAR.openObject && findRepeated ? new Set() : null);
      expectKey = c === CHAR.openObject;
    } else if (c === CHAR.closeObject || c === CHAR.closeArray) {
      open.pop();
      expectKey = false;
    } else if (c === CHAR.comma) {
      expectKey = open[open.length - 1] != null;
    }
  }
  return { keys };
}

/** Index of the quote that closes the string opening at `open` (text.length if none): one not escaped. */
function closingQuote(text: string, open: number): number {
  for (let j = text.indexOf('"', open + 1); j !== -1; j = text.indexOf('"', j + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(j - 1 - backslashes) === CHAR.backslash) backslashes++;
    if (backslashes % 2 === 0) return j;
  }
  return text.length;
}

/** Keys of a parsed header value at `depth` and of every object within it (MAX_HEADER_DEPTH bounds the depth). */
function countKeys(value: unknown, depth: number): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (depth === MAX_HEADER_DEPTH) return Array.isArray(value) ? 0 : Object.keys(value).length; // holds no containers
  const children = Object.values(value);
  return children.reduce((n: number, child) => n + countKeys(child, depth + 1), Array.isArray(value) ? 0 : children.length);
}

/** The string a JSON key's text (between its quotes) stands for; the raw text when its escapes are invalid. */
function unescapeKey(raw: string): string {
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw; // the whole header then fails JSON.parse, which is reported first
  }
}

/** The `__metadata__` value checked to be a string → string map (a copy); {} when absent. */
export function parseMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isRecord(value)) fail(`${METADATA_KEY} must be an object, got ${describeJson(value)}`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`${METADATA_KEY} must map strings to strings; ${quote(key)} holds ${describeJson(v)}`);
  }
  return { ...(value as Record<string, string>) };
}

/** One tensor's header entry checked (dtype known, shape and data_offsets valid, span = shape × element size). */
export function parseEntry(name: string, info: unknown, dataBytes: number): TensorEntry {
  const bad: (problem: string) => never = (problem) => fail(`tensor ${quote(name)}: ${problem}`);
  if (!isRecord(info)) bad(`entry must be an object, got ${describeJson(info)}`);
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!Object.hasOwn(info, field)) bad(`entry lacks "${field}"`);
  }
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== 'string' || !Object.hasOwn(READERS, dtype)) {
    bad(`unsupported dtype ${showJson(dtype)} (supported: ${Object.keys(READERS).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    bad(`shape ${showJson(shape)} must be an array of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    bad(`data_offsets ${showJson(offsets)} must be two non-negative integers [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) bad(`data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataBytes) bad(`data_offsets [${begin}, ${end}] run past the ${dataBytes}-byte data section`);
  // The span is bounded by the file, so comparing against it bounds every later allocation; a product of
  // huge dimensions is inexact or infinite, but always far above any span, so it fails the comparison.
  const dims = (shape as number[]).map((d) => d + 0); // + 0 turns a JSON -0 into 0
  const needed = elementCount(dims) * READERS[dtype as SafetensorsDtype].size;
  if (needed !== end - begin) {
    bad(`data_offsets [${begin}, ${end}] span ${end - begin} bytes, but shape ` + `${showShape(dims)} of ${dtype} needs ${needed}`);
  }
  return { name, dtype: dtype as SafetensorsDtype, shape: dims, begin, end };
}

/** The tensors must tile the data section exactly: no overlaps, no holes, no trailing bytes. */
export function checkLayout(entries: TensorEntry[], dataBytes: number): void {
  const ordered = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: TensorEntry | undefined;
  for (const e of ordered) {
    if (e.begin < covered && previous !== undefined) {
      fail(`tensors ${quote(previous.name)} [${previous.begin}, ${previous.end}] and ${quote(e.name)} ` + `[${e.begin}, ${e.end}] overlap`);
    }
    if (e.begin > covered) fail(`bytes [${covered}, ${e.begin}) of the data section belong to no tensor`);
    covered = e.end;
    previous = e;
  }
  if (covered !== dataBytes) {
    fail(`bytes [${covered}, ${dataBytes}) at the end of the data section belong to no tensor`);
  }
}
