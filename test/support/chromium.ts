/**
 * Headless Chromium with WebGPU for the suites that run in a page (test/browser.test.ts,
 * test/browser-dates.test.ts): vite serving the repository, Chromium on the software adapter, and the
 * page's errors sent to the test output.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { createServer } from 'vite';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `--enable-unsafe-webgpu` is the one flag WebGPU needs here: without it Chromium 156 on Linux
 * exposes navigator.gpu but requestAdapter() resolves to null; with it, Dawn falls back to
 * SwiftShader (Vulkan on the CPU, shipped with Chromium) when the machine has no GPU.
 * `--no-sandbox` because the tests may run as root in a container; the rest keep the browser
 * from reaching the network or doing background work while it is timed.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/** vite serving the repository, Chromium started, and how to stop both. */
export interface ChromiumPages {
  origin: string;
  browser: Browser;
  close(): Promise<void>;
}

export async function startChromium(): Promise<ChromiumPages> {
  const server = await createServer({
    root: ROOT,
    configFile: join(ROOT, 'vite.config.ts'),
    logLevel: 'warn',
    clearScreen: false,
    // No HMR, no watcher: another process editing sources mid-run must not reload the page.
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null },
  });
  let userDataDir: string | undefined;
  // Each step on its own, so one failing does not leave the others running.
  const closeServer = () => server.close().catch((error) => console.error('closing the vite server:', error));
  try {
    await server.listen();
    const { port } = server.httpServer!.address() as AddressInfo;
    userDataDir = await mkdtemp(join(tmpdir(), 'webgpu-rnn-chromium-'));
    const browser = await puppeteer.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      userDataDir,
      args: CHROMIUM_ARGS,
    });
    const dir = userDataDir;
    return {
      origin: `http://127.0.0.1:${port}`,
      browser,
      async close() {
        await browser.close().catch((error) => console.error('closing Chromium:', error));
        await closeServer();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await closeServer();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
    throw error;
  }
}

/** Sends the page's errors and warnings to the test output, where a failure will be read. */
export function forwardPageErrors(page: Page): void {
  page.on('console', (message) => {
    const type = message.type();
    if (type === 'error' || type === 'warn')
      console.error(`[chromium ${type}] ${message.text()}${message.location().url ? ` (${message.location().url})` : ''}`);
  });
  page.on('pageerror', (error) => console.error('[chromium pageerror]', error));
  page.on('requestfailed', (request) => console.error(`[chromium requestfailed] ${request.url()}: ${request.failure()?.errorText}`));
}
