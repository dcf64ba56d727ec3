/**
 * The Chromium runtime of the benchmark: Vite serves the repository on 127.0.0.1 (WebGPU needs a
 * secure context), puppeteer drives Debian's headless Chromium with WebGPU enabled on demo/bench.html,
 * which runs the same runBench and publishes its report. Needs the repository's dev dependencies.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchArgs } from './cli.js';
import type { BenchReport } from './run.js';

const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/** The repository root, found from this module (src/bench/, or the built dist-bench/). */
export function repoRoot(): string {
  const here = fileURLToPath(new URL(/* @vite-ignore */ '.', import.meta.url));
  return here.includes(`${join('src', 'bench')}`) ? join(here, '..', '..') : join(here, '..');
}

export async function runBenchInChromium(args: BenchArgs, log: (line: string) => void): Promise<BenchReport> {
  const vite = await import(/* @vite-ignore */ 'vite');
  const puppeteer = (await import(/* @vite-ignore */ 'puppeteer')).default;
  const root = repoRoot();
  const server = await vite.createServer({
    root,
    configFile: join(root, 'vite.config.ts'),
    server: { host: '127.0.0.1', port: 0, hmr: false },
    logLevel: 'error',
  });
  const profile = await mkdtemp(join(tmpdir(), 'webgpu-rnn-bench-'));
  let browser: Awaited<ReturnType<typeof puppeteer.launch>> | undefined;
  try {
    await server.listen();
    const address = server.httpServer?.address();
    if (!address || typeof address === 'string') throw new Error('vite did not report a port');
    browser = await puppeteer.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`],
      protocolTimeout: 3_600_000,
    });
    const page = await browser.newPage();
    page.on('console', (m) => log(`[chromium] ${m.text()}`));
    page.on('pageerror', (e) => log(`[chromium] page error: ${(e as Error).message}`));
    const query = new URLSearchParams({
      shapes: args.shapes.map((s) => s.name).join(','),
      systems: args.systems.join(','),
      runs: String(args.runs),
      warmup: String(args.warmup),
      ceilingScale: String(args.ceilingScale),
      strategy: args.strategy,
      ...(args.profile ? { profile: '1' } : {}),
    });
    await page.goto(`http://127.0.0.1:${address.port}/demo/bench.html?${query}`);
    for (;;) {
      const state = await page.evaluate(() => (window as unknown as { __bench?: { report?: BenchReport; error?: string } }).__bench);
      if (state?.error) throw new Error(`benchmark page failed: ${state.error}`);
      if (state?.report) return state.report;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await browser?.close();
    await server.close();
    await rm(profile, { recursive: true, force: true });
  }
}
