// The child of test/cli-files.test.ts: writes one file over and over with writeOutput (the CLI's
// writer), each version a safetensors file whose every element and metadata say its number. Prints
// "ready" once the first version is on disk, then writes until it is killed.
import { writeOutput } from '../../src/cli-files.js';
import { writeSafetensors } from '../../src/safetensors.js';

const [path, sizeText] = process.argv.slice(2);
const size = Number(sizeText);
const version = (v: number) =>
  writeSafetensors({ x: { shape: [size], data: new Float32Array(size).fill(v) } }, { floatDtype: 'F32', metadata: { version: String(v) } });
await writeOutput(path, version(0));
process.stdout.write('ready\n');
for (let v = 1; ; v++) await writeOutput(path, version(v));
