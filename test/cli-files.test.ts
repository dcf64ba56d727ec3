// The CLI's output files are written atomically (src/cli-files.ts writeOutput): a child process that
// writes one file over and over is killed with SIGKILL at random moments, 200 times, and every time the
// file on disk loads and is one whole version (every element equal to its metadata's number) — the old
// one or a newer one, never a part of one. The child is built from the sources with Vite (the library's
// own build tool) into a temporary folder.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'vite';
import { seededUniform } from '../src/random.js';
import { readSafetensors } from '../src/safetensors.js';

const root = join(import.meta.dirname, '..');
let folder: string;
let writer: string;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'webgpu-rnn-atomic-'));
  await build({
    configFile: false,
    logLevel: 'silent',
    build: {
      ssr: join(root, 'test/support/atomic-writer.ts'),
      outDir: join(folder, 'build'),
      emptyOutDir: true,
      minify: false,
      rollupOptions: { output: { entryFileNames: 'writer.mjs' } },
    },
  });
  writer = join(folder, 'build/writer.mjs');
}, 60_000);
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** Starts the writer and resolves once its first version is on disk. */
function started(path: string, size: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, path, String(size)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`writer exited (${code}) before it was ready: ${err}`)));
  });
}

describe('atomic output files', () => {
  it('writers killed with SIGKILL at 200 random moments always leave a whole version of their file', async () => {
    const size = 1 << 16; // 256 KiB of floats per version
    const next = seededUniform(7);
    let advanced = 0;
    // Four writers side by side, each on its own file, 50 kills each.
    const lane = async (n: number) => {
      const path = join(folder, `checkpoint${n}.safetensors`);
      for (let kill = 0; kill < 50; kill++) {
        const child = await started(path, size);
        child.removeAllListeners('exit');
        await new Promise((r) => setTimeout(r, next() * 40));
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
        const file = readSafetensors(new Uint8Array(readFileSync(path)));
        const version = Number(file.metadata.version);
        const data = file.tensors.x.data;
        expect(data.length).toBe(size);
        expect(
          data.every((v) => v === version),
          `writer ${n}, kill ${kill}: version ${version} is whole`,
        ).toBe(true);
        if (version > 0) advanced++;
      }
    };
    await Promise.all([0, 1, 2, 3].map(lane));
    // The kills landed while it was writing: many runs got past their first version.
    expect(advanced).toBeGreaterThan(40);
    // A later write removes the temporary files killed writers left; at most each writer's last kill's remain.
    const leftovers = readdirSync(folder).filter((f) => f.endsWith('.tmp'));
    expect(leftovers.length).toBeLessThanOrEqual(4);
    console.info(`200 kills: every file whole; ${advanced} runs killed after their first version; ${leftovers.length} temporary files left by kills`);
  }, 120_000);
});
