// The formatter and the linter (Biome, biome.json) over every source, test, demo and script file: the
// test command runs them through this test, so a change that is not formatted, or that a lint rule
// rejects, fails the suite with Biome's own report.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const biome = fileURLToPath(new URL('../../node_modules/@biomejs/biome/bin/biome', import.meta.url));

describe('Biome', () => {
  it('formats and lints clean (biome ci)', async () => {
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(process.execPath, [biome, 'ci', '--error-on-warnings', '--colors=off', '.'], { cwd: root, maxBuffer: 1 << 24 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
      );
    });
    expect(code, output).toBe(0);
  });
});
