// The test command's summary line (scripts/test-summary.mjs): what CI reads. A run that did not pass
// never says "0 failed".
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../scripts/test-summary.mjs', import.meta.url));
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rnn-summary-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = (status: string, tests: string[]) => ({ status, assertionResults: tests.map((s) => ({ status: s })) });

async function summary(report: object | undefined, status: number): Promise<string> {
  const path = join(dir, `r${Math.random()}.json`);
  if (report) await writeFile(path, JSON.stringify(report));
  return execFileSync(process.execPath, [script, path, String(status)], { encoding: 'utf8' }).trim();
}

describe('test summary line', () => {
  const base = { numPassedTests: 5, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0 };
  it.each([
    ['a clean run', { ...base, testResults: [file('passed', ['passed'])] }, 0, '5 passed, 0 failed'],
    ['failed tests', { ...base, numFailedTests: 2, testResults: [file('failed', ['failed', 'failed'])] }, 1, '5 passed, 2 failed'],
    ['a file broken outside its tests', { ...base, numPendingTests: 3, testResults: [file('failed', ['skipped'])] }, 1, '5 passed, 1 failed, 3 skipped'],
    ['an error outside every test (Vitest exits 1, the report counts none)', { ...base, testResults: [file('passed', ['passed'])] }, 1, '5 passed, 1 failed'],
    ['no report at all', undefined, 1, '0 passed, 1 failed'],
  ] as const)('%s', async (_name, report, status, line) => {
    expect(await summary(report, status)).toBe(line);
  });
});
