/**
 * readSafetensors: checks its argument is a real Uint8Array and the header-size prefix against the file's
 * length, hands the header to header.ts, then decodes each tensor's bytes (decode.ts) into arrays it owns.
 */
import { RnnError, describeValue } from '../errors.js';
import type { IntTensor, Tensor } from '../tensor.js';
import { decode } from './decode.js';
import { HEADER_SIZE_BYTES, MAX_HEADER_BYTES, METADATA_KEY } from './format.js';
import { checkLayout, parseEntry, parseHeader, parseMetadata } from './header.js';
import { fail } from './messages.js';
import type { SafetensorsFile } from './types.js';

/** The intrinsic check behind util.types.isUint8Array: true for Buffers, false for Proxies and look-alikes. */
const typedArrayName = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag)!.get!;

function checkFileArgument(bytes: unknown): asserts bytes is Uint8Array {
  if (typedArrayName.call(bytes) === 'Uint8Array') return;
  const hint =
    bytes instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && bytes instanceof SharedArrayBuffer)
      ? ' (wrap it: new Uint8Array(buffer))'
      : ArrayBuffer.isView(bytes)
        ? ' (view its bytes: new Uint8Array(view.buffer, view.byteOffset, view.byteLength))'
        : bytes instanceof Uint8Array
          ? ' that is a Proxy or look-alike (pass the Uint8Array itself)'
          : '';
  throw new RnnError('SAFETENSORS_INVALID', `readSafetensors: expected the file's bytes as a Uint8Array, got ${describeValue(bytes)}${hint}`);
}

/**
 * Parses a safetensors file. Throws an RnnError with code SAFETENSORS_INVALID naming the part of the file
 * (or the tensor) that is malformed, or when given anything but a Uint8Array; nothing is allocated beyond
 * what the file's own bytes justify.
 */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  checkFileArgument(bytes);
  if (bytes.byteLength < HEADER_SIZE_BYTES) {
    fail(`file is ${bytes.byteLength} bytes, shorter than the ${HEADER_SIZE_BYTES}-byte header-size prefix`);
  }
  // Never assume byteOffset 0: Node's Buffers are often slices of a shared pool.
  const file = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = file.getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    fail(`header size ${declared} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const headerBytes = Number(declared);
  const dataStart = HEADER_SIZE_BYTES + headerBytes;
  if (dataStart > bytes.byteLength) {
    fail(`header size ${headerBytes} runs past the end of the ${bytes.byteLength}-byte file`);
  }

  const fields = parseHeader(bytes.subarray(HEADER_SIZE_BYTES, dataStart));
  const dataBytes = bytes.byteLength - dataStart;
  const metadata = parseMetadata(fields.find(([name]) => name === METADATA_KEY)?.[1]);
  const entries = fields.filter(([name]) => name !== METADATA_KEY).map(([name, info]) => parseEntry(name, info, dataBytes));
  checkLayout(entries, dataBytes);

  // Object.fromEntries defines own properties, so even a tensor named "__proto__" stays an ordinary key.
  const at = bytes.byteOffset + dataStart;
  const tensors = Object.fromEntries(
    entries.map((e) => {
      const data = decode(e.dtype, bytes.buffer, at + e.begin, e.end - e.begin);
      return [e.name, { shape: e.shape, data } as Tensor | IntTensor];
    }),
  );
  const dtypes = Object.fromEntries(entries.map((e) => [e.name, e.dtype]));
  return { tensors, dtypes, metadata };
}
