#!/usr/bin/env node
// The `webgpu-rnn` command: runs the built CLI (dist/cli.js, made by `npm run build`, which
// `npm install` / `npm ci` run through the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error('webgpu-rnn: dist/cli.js is missing; run `npm run build` in the package directory first');
  process.exit(1);
}
const { main } = await import(cli.href);
// Exit explicitly: a WebGPU device can keep Node's event loop alive after the work is done.
process.exit(await main(process.argv.slice(2)));
