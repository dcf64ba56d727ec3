/**
 * The built `webgpu-rnn` command (bin/webgpu-rnn.js → dist/cli.js) as a child process, and the shape
 * every user mistake must have — shared by the command's tests (forward, training, ONNX).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { USAGE } from '../../src/cli.js';
import type { RnnErrorCode } from '../../src/errors.js';

const bin = fileURLToPath(new URL('../../bin/webgpu-rnn.js', import.meta.url));

/** Dawn's two adapter warnings on SwiftShader (scripts/test.sh drops them from the suite's output too). */
const DAWN_NOISE = /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\n/gm;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the command with `args`; `dropDawnWarnings` takes Dawn's adapter warnings out of stderr. */
export function runCli(args: string[], options: { dropDawnWarnings?: boolean } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr: options.dropDawnWarnings ? stderr.replace(DAWN_NOISE, '') : stderr });
    });
  });
}

/**
 * A user's mistake: exit code 2 for the command line, 1 for the rest; stderr is one line
 * `webgpu-rnn: <message> [<CODE>]` (then the usage text, for USAGE) and no stack; nothing is written
 * to `out`.
 */
export function expectUserError(r: CliResult, code: RnnErrorCode, message: RegExp, out: string): void {
  const [line] = r.stderr.split('\n');
  expect(r.stderr, 'a Node stack trace').not.toContain('    at ');
  expect(line).toMatch(/^webgpu-rnn: \S.* \[[A-Z_]+\]$/);
  expect(line.slice(line.lastIndexOf(' [') + 2, -1)).toBe(code);
  expect(line).toMatch(message);
  expect(r.stderr).toBe(code === 'USAGE' ? `${line}\n\n${USAGE}\n` : `${line}\n`);
  expect(r.code).toBe(code === 'USAGE' ? 2 : 1);
  expect(r.stdout).toBe('');
  expect(existsSync(out), `${out} was written`).toBe(false);
}
