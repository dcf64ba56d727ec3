/**
 * One config for five jobs:
 *  - `vite build`: the library (ES modules, WGSL inlined via `?raw`) into dist/: index.js (browser + Node),
 *    node.js (Dawn device helper) and cli.js (the `webgpu-rnn` command) — what the npm package ships;
 *  - `vite build --mode bench`: the benchmark's command into dist-bench/bench.js (`npm run bench`), kept
 *    out of the package: its peers are dev dependencies;
 *  - `vite build --mode demo`: the demo (demo/index.html and what it imports) as static files in
 *    dist-demo/, with relative paths, to host anywhere;
 *  - `vite` (dev server): the demo page and the browser test page, served from http://127.0.0.1 (the
 *    root redirects to /demo/);
 *  - `vitest`: the Node test suite.
 */
import type { Connect, Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { resolve } from 'node:path';
import { LongestFirst } from './test/support/longest-first.js';

const here = import.meta.dirname;

/** The dev server's root is the repository (the demo and the test pages): send `/` to the demo. */
const rootToDemo: Plugin = {
  name: 'webgpu-rnn:root-to-demo',
  configureServer(server) {
    server.middlewares.use(((req, res, next) => {
      if (req.url !== '/' && req.url !== '/index.html') return next();
      res.statusCode = 302;
      res.setHeader('Location', '/demo/');
      res.end();
    }) as Connect.NextHandleFunction);
  },
};

const demoBuild = {
  root: resolve(here, 'demo'),
  base: './',
  build: { target: 'es2022', outDir: resolve(here, 'dist-demo'), emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1024 },
  // The CPU backend's trainers run in module workers (demo/trainer-worker.ts), which share the page's chunks.
  worker: { format: 'es' as const },
};

export default defineConfig(({ mode }) =>
  mode === 'demo'
    ? demoBuild
    : {
        server: { host: '127.0.0.1' },
        plugins: [rootToDemo],
        // The benchmark page imports these peers; pre-bundling them up front avoids a mid-run page reload
        // (and a second copy of tfjs-core) when Vite would otherwise discover them on first import.
        optimizeDeps: { include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu'] },
        build: {
          target: 'es2022',
          outDir: mode === 'bench' ? 'dist-bench' : 'dist',
          emptyOutDir: true,
          minify: false,
          sourcemap: true,
          lib: {
            entry: (mode === 'bench'
              ? { bench: resolve(here, 'src/bench/main.ts') }
              : { index: resolve(here, 'src/index.ts'), node: resolve(here, 'src/node.ts'), cli: resolve(here, 'src/cli.ts') }) as Record<string, string>,
            formats: ['es'],
          },
          rolldownOptions: {
            // Node built-ins, Dawn, and the benchmark's optional peers and Chromium runner stay imports.
            external: [/^node:/, 'webgpu', /^@tensorflow\//, /^onnxruntime-web/, 'puppeteer', 'vite'],
          },
        },
        test: {
          include: ['test/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // Two files at a time on the 2-core machine: a software adapter's work is mostly one thread
          // (pipeline compilation), so two workers nearly halve the suite (one f16 file alone 148 s, two
          // side by side 159 s each). The longest files go first (test/support/longest-first.ts).
          fileParallelism: true,
          maxWorkers: 2,
          sequence: { sequencer: LongestFirst },
        },
      },
);
