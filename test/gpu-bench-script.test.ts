// scripts/gpu-bench.sh's own logic, without a GPU machine: the script runs from a copy in a temporary
// "repository", with stand-ins for `node` (a shell script that answers the adapter probe as told, runs
// inline scripts with the real Node and logs every other command line), `npm`, `python3` (torch with or
// without CUDA) and `nproc`, and real tar and xz: what it packs, that it refuses a software adapter before
// running anything, and the benchmark and test commands it runs on a GPU.
import { execFile, execFileSync } from 'node:child_process';
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
  // The test runner's packages: vitest needs tinypool (and, optionally, webgpu, which travels with Dawn);
  // fast-check stands alone; `unrelated` is needed by nothing.
  const pkg = (name: string, manifest: object) => {
    mkdirSync(join(repo, 'node_modules', name), { recursive: true });
    writeFileSync(join(repo, 'node_modules', name, 'package.json'), JSON.stringify({ name, ...manifest }));
  };
  pkg('vitest', { dependencies: { tinypool: '1' }, peerDependencies: { webgpu: '*', missing: '*' } });
  pkg('tinypool', {});
  pkg('fast-check', {});
  pkg('unrelated', {});
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Stand-ins: the adapter probe prints `adapter` and exits with `probeExit`; python3 has CUDA if `cuda`. */
function fakeTools(adapter: string, probeExit: number, cuda = false): void {
  const tool = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  tool(
    'node',
    `if [ "$1" = --input-type=module ]; then echo "adapter: ${adapter}"; exit ${probeExit}; fi\nif [ "$1" = -e ]; then exec "${process.execPath}" "$@"; fi\necho "node $* python=\${WEBGPU_RNN_PYTHON:-}" >> "$NODE_LOG"\necho "benchmark output"`,
  );
  tool('npm', 'echo "npm $*" >> "$NODE_LOG"');
  tool('python3', `exit ${cuda ? 0 : 1}`);
  tool('nproc', 'echo 16');
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

const packed = (file: string) =>
  execFileSync('tar', ['-tJf', join(repo, '.device', file)], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);

describe('scripts/gpu-bench.sh', () => {
  it('pack builds the benchmark and packs Node, the Vulkan loader, Dawn, the benchmark and the test runner into .device/', async () => {
    fakeTools('unused', 0);
    const { code, stdout } = await sh(['pack']);
    expect(code).toBe(0);
    expect(log()).toBe('npm run build:bench --silent\n');
    expect(stdout).toMatch(/3 packages for the tests\): carry it/);
    for (const f of ['node', 'vulkan', 'dawn', 'bench', 'tests']) expect(existsSync(join(repo, `.device/${f}.tar.xz`))).toBe(true);
    expect(packed('dawn.tar.xz')).toEqual(expect.arrayContaining(['node_modules/webgpu/dist/linux-x64/dawn.node']));
    // vitest and what it depends on (not webgpu, which Dawn's archive holds, nor what nothing needs).
    const tests = packed('tests.tar.xz').filter((p) => p.endsWith('package.json'));
    expect(tests.sort()).toEqual(['node_modules/fast-check/package.json', 'node_modules/tinypool/package.json', 'node_modules/vitest/package.json']);
  }, 60_000);

  it('run without a pack says what to do, and runs nothing', async () => {
    fakeTools('NVIDIA H200', 0);
    const { code, stderr } = await sh(['run']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/\.device\/node\.tar\.xz is missing: run 'bash scripts\/gpu-bench\.sh pack' here and carry \.device/);
    expect(log()).toBe('');
  });

  it('run and test refuse a software adapter before running anything', async () => {
    fakeTools('google swiftshader', 3);
    expect((await sh(['pack'])).code).toBe(0);
    rmSync(join(dir, 'node.log'));
    for (const verb of ['run', 'test']) {
      const { code, stdout, stderr } = await sh([verb]);
      expect(code).toBe(3);
      expect(stdout).toMatch(/adapter: google swiftshader/);
      expect(stderr).toMatch(/no hardware adapter here/);
    }
    expect(log()).toBe('');
  }, 60_000);

  it('run on a GPU times our engine on every shape with --big by default, or with the options given, and PyTorch where it has CUDA', async () => {
    fakeTools('nvidia hopper NVIDIA H200', 0);
    expect((await sh(['pack'])).code).toBe(0);
    rmSync(join(dir, 'node.log'));
    const out = join(dir, 'out');
    const first = await sh(['run']);
    expect(first.code).toBe(0);
    expect(readFileSync(join(out, 'adapter.txt'), 'utf8')).toBe('adapter: nvidia hopper NVIDIA H200\n');
    expect(readFileSync(join(out, 'bench-gpu.log'), 'utf8')).toBe('benchmark output\n');
    await sh(['run', '--shapes', 'voice-lstm', '--runs', '9']);
    fakeTools('nvidia hopper NVIDIA H200', 0, true);
    await sh(['run', '--train']);
    expect(log().split('\n').filter(Boolean)).toEqual([
      `node dist-bench/bench.js --systems webgpu-rnn,webgpu-rnn-forward --big --runs 5 --json ${out}/bench-gpu.json python=`,
      `node dist-bench/bench.js --systems webgpu-rnn,webgpu-rnn-forward --shapes voice-lstm --runs 9 --json ${out}/bench-gpu.json python=`,
      `node dist-bench/bench.js --systems webgpu-rnn,webgpu-rnn-forward,pytorch-cuda --train --json ${out}/bench-gpu.json python=${bin}/python3`,
    ]);
  }, 60_000);

  it('test unpacks the test runner and runs the GPU test files, one worker per two cores, or the arguments given', async () => {
    fakeTools('nvidia hopper NVIDIA H200', 0);
    expect((await sh(['pack'])).code).toBe(0);
    rmSync(join(dir, 'node.log'));
    rmSync(join(repo, 'node_modules/tinypool'), { recursive: true });
    const out = join(dir, 'out');
    expect((await sh(['test'])).code).toBe(0);
    expect(existsSync(join(repo, 'node_modules/tinypool/package.json'))).toBe(true);
    expect((await sh(['test', 'test/ops/gemm.test.ts'])).code).toBe(0);
    const runner = `node node_modules/vitest/vitest.mjs run --maxWorkers=8 --reporter=default --reporter=json --outputFile.json=${out}/vitest-gpu.json`;
    const [all, one] = log().split('\n').filter(Boolean);
    expect(all).toMatch(new RegExp(`^${runner} test/ops test/gpu-node.test.ts .* test/train/recurrent-dropout.test.ts python=$`));
    expect(one).toBe(`${runner} test/ops/gemm.test.ts python=`);
    expect(readFileSync(join(out, 'vitest-gpu.log'), 'utf8')).toBe('benchmark output\n');
  }, 60_000);

  it('anything else is a usage error', async () => {
    const { code, stderr } = await sh(['bench']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^usage: bash scripts\/gpu-bench\.sh pack \| run .* \| test/);
  });
});
