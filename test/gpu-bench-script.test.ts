// scripts/gpu-bench.sh's own logic, without a GPU machine: the script runs from a copy in a temporary
// "repository", with a stand-in `node` (a shell script that answers the adapter probe as told and logs
// the benchmark's command line) and `npm`, and real tar: what it packs, that it refuses a software
// adapter before timing anything, and the benchmark command it runs on a GPU.
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../scripts/gpu-bench.sh', import.meta.url));

let dir = '';
let repo = '';
let bin = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-gpu-bench-'));
  repo = join(dir, 'repo');
  bin = join(dir, 'bin');
  for (const d of [join(repo, 'scripts'), join(repo, 'dist-bench'), join(repo, 'node_modules/webgpu/dist/linux-x64'), bin]) mkdirSync(d, { recursive: true });
  copyFileSync(script, join(repo, 'scripts/gpu-bench.sh'));
  writeFileSync(join(repo, 'dist-bench/bench.js'), '// the built benchmark');
  for (const f of ['package.json', 'index.js', 'dist/linux-x64/dawn.node']) writeFileSync(join(repo, 'node_modules/webgpu', f), f);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in node: the adapter probe prints `adapter` and exits with `probeExit`; anything else is logged. */
function fakeNode(adapter: string, probeExit: number): void {
  const path = join(bin, 'node');
  writeFileSync(
    path,
    `#!/bin/bash\nif [ "$1" = --input-type=module ]; then echo "adapter: ${adapter}"; exit ${probeExit}; fi\necho "node $*" >> "$NODE_LOG"\necho "benchmark output"\n`,
  );
  chmodSync(path, 0o755);
  writeFileSync(join(bin, 'npm'), '#!/bin/bash\necho "npm $*" >> "$NODE_LOG"\n');
  chmodSync(join(bin, 'npm'), 0o755);
}

function sh(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      'bash',
      [join(repo, 'scripts/gpu-bench.sh'), ...args],
      { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NODE_LOG: join(dir, 'node.log'), OUT: join(dir, 'out'), ...env } },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const log = () => (existsSync(join(dir, 'node.log')) ? readFileSync(join(dir, 'node.log'), 'utf8') : '');

describe('scripts/gpu-bench.sh', () => {
  it('pack builds the benchmark and packs Node, the Vulkan loader, Dawn and the benchmark into .device/', async () => {
    fakeNode('unused', 0);
    const { code, stdout } = await sh(['pack']);
    expect(code).toBe(0);
    expect(log()).toBe('npm run build:bench --silent\n');
    expect(stdout).toMatch(/carry it/);
    for (const f of ['node', 'vulkan', 'dawn', 'bench']) expect(existsSync(join(repo, `.device/${f}.tar.gz`))).toBe(true);
  }, 60_000);

  it('run without a pack says what to do, and times nothing', async () => {
    fakeNode('NVIDIA H200', 0);
    const { code, stderr } = await sh(['run']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/\.device\/node\.tar\.gz is missing: run 'bash scripts\/gpu-bench\.sh pack' here and carry \.device/);
    expect(log()).toBe('');
  });

  it('run refuses a software adapter before timing anything', async () => {
    fakeNode('google swiftshader', 3);
    expect((await sh(['pack'])).code).toBe(0);
    rmSync(join(dir, 'node.log'));
    const { code, stdout, stderr } = await sh(['run']);
    expect(code).toBe(3);
    expect(stdout).toMatch(/adapter: google swiftshader/);
    expect(stderr).toMatch(/no hardware adapter here/);
    expect(log()).toBe('');
  }, 60_000);

  it('run on a GPU times our engine on every shape with --big by default, or with the options given', async () => {
    fakeNode('nvidia hopper NVIDIA H200', 0);
    expect((await sh(['pack'])).code).toBe(0);
    rmSync(join(dir, 'node.log'));
    const out = join(dir, 'out');
    const first = await sh(['run']);
    expect(first.code).toBe(0);
    expect(readFileSync(join(out, 'adapter.txt'), 'utf8')).toBe('adapter: nvidia hopper NVIDIA H200\n');
    expect(readFileSync(join(out, 'bench-gpu.log'), 'utf8')).toBe('benchmark output\n');
    await sh(['run', '--shapes', 'voice-lstm', '--runs', '9']);
    expect(log().split('\n').filter(Boolean)).toEqual([
      `node dist-bench/bench.js --systems webgpu-rnn,webgpu-rnn-forward --big --runs 5 --json ${out}/bench-gpu.json`,
      `node dist-bench/bench.js --systems webgpu-rnn,webgpu-rnn-forward --shapes voice-lstm --runs 9 --json ${out}/bench-gpu.json`,
    ]);
  }, 60_000);

  it('anything else is a usage error', async () => {
    const { code, stderr } = await sh(['bench']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^usage: bash scripts\/gpu-bench\.sh pack \| run/);
  });
});
