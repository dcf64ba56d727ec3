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

/** Dawn's two adapter warnings on SwiftShader, which the command's launcher keeps out of its output. */
export const DAWN_NOISE = /Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced/;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the command with `args`. Whatever it ran, its output holds none of Dawn's adapter warnings, and
 * what it printed ends with a newline.
 */
export async function runCli(args: string[]): Promise<CliResult> {
  const r = await new Promise<CliResult>((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
  expect(r.stderr, "Dawn's adapter warnings in the output").not.toMatch(DAWN_NOISE);
  for (const [name, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ])
    if (text) expect(text.endsWith('\n'), `${name} ends with a newline: ${JSON.stringify(text.slice(-40))}`).toBe(true);
  return r;
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
