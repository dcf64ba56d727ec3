// The README's two end-to-end examples (examples/*.mjs), run as a user runs them from a clone: `node
// examples/….mjs`, importing the package by its name (Node resolves a package's own name through its
// "exports", so they import what dist/ holds, as an installed package would).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function run(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { cwd: root, timeout: 240_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(() => {
  if (!existsSync(`${root}/dist/index.js`)) throw new Error('dist/index.js is missing: run `npm run build` (scripts/test.sh does)');
});

describe('examples', () => {
  it('char-model.mjs: text → character model below the unigram baseline → a continuation of 今天天气很', async () => {
    const r = await run('examples/char-model.mjs');
    expect(r.code, r.stderr).toBe(0);
    console.log(r.stdout.trim());
    const [, loss, baseline] = /loss (\d+\.\d+) nats\/character \(unigram baseline (\d+\.\d+)\)/.exec(r.stdout)!.map(Number);
    expect(loss).toBeLessThan(baseline / 2);
    expect(r.stdout).toMatch(/^τ = 0: 今天天气很\S{12}$/mu);
    expect(r.stdout).toMatch(/^τ = 0\.8: 今天天气很\S{12}$/mu);
  });

  it('classifier.mjs: variable-length sequences → a classifier on h_n → held-out accuracy well above chance', async () => {
    const r = await run('examples/classifier.mjs');
    expect(r.code, r.stderr).toBe(0);
    console.log(r.stdout.trim());
    const accuracy = Number(/held-out accuracy: (\d+\.\d)%/.exec(r.stdout)![1]);
    expect(accuracy).toBeGreaterThan(85);
  });
});
