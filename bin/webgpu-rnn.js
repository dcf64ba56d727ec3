#!/usr/bin/env node
// The `webgpu-rnn` command: runs the built CLI (dist/cli.js, made by `npm run build`, which
// `npm install` / `npm ci` run through the `prepare` script).
//
// Dawn (the `webgpu` package) prints two lines of its own to the process's stderr, from native code,
// whenever a process enumerates the adapters on some drivers ("Warning: maxDynamicUniformBuffers…
// artificially reduced from 1000000 to 16 …": the driver's limits clipped to Dawn's). Node cannot
// redirect a native write, and Dawn has no switch for it; so the command runs the CLI in a child
// process whose stderr passes through here, every line but those two, as it comes. stdout is the
// child's own (binary or text, unbuffered); signals sent here go on to the child; the exit code (or
// the signal) is the child's.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CHILD = 'WEBGPU_RNN_CLI_CHILD';

if (process.env[CHILD] === '1') {
  const cli = new URL('../dist/cli.js', import.meta.url);
  if (!existsSync(fileURLToPath(cli))) {
    console.error('webgpu-rnn: dist/cli.js is missing; run `npm run build` in the package directory first');
    process.exit(1);
  }
  const { main } = await import(cli.href);
  // Exit explicitly: a WebGPU device can keep Node's event loop alive after the work is done.
  process.exit(await main(process.argv.slice(2)));
}

const DAWN_NOISE =
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?\n$/;
const NOISE_START = 'Warning: maxDynamic';

// Signals sent here go on to the command; the handlers are in place before it starts, so a signal can
// never end this process and leave the command running.
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let child;
for (const signal of signals) process.on(signal, () => child?.kill(signal));

child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
  stdio: ['inherit', 'inherit', 'pipe'],
  // The CLI draws its progress bar in place when the terminal is the parent's.
  env: { ...process.env, [CHILD]: '1', ...(process.stderr.isTTY ? { WEBGPU_RNN_STDERR_TTY: '1' } : {}) },
});

// Whole lines are checked; a partial line is passed on at once unless it could be the start of one
// of Dawn's (so a progress bar redrawn with \r is not held back).
let pending = '';
child.stderr.setEncoding('utf8');
child.stderr.on('data', (chunk) => {
  pending += chunk;
  const lines = pending.split(/(?<=\n)/);
  pending = lines.at(-1).endsWith('\n') ? '' : lines.pop();
  let out = lines.filter((line) => !DAWN_NOISE.test(line)).join('');
  if (pending && !(NOISE_START.startsWith(pending) || pending.startsWith(NOISE_START))) {
    out += pending;
    pending = '';
  }
  if (out) process.stderr.write(out);
});

child.on('error', (e) => {
  console.error(`webgpu-rnn: could not start the command (${e.message})`);
  process.exit(1);
});
child.on('close', (code, signal) => {
  if (pending) process.stderr.write(pending);
  if (signal) {
    for (const s of signals) process.removeAllListeners(s);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
