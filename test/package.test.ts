// The npm package as a user gets it: `npm pack` of the built library, installed offline (from the
// tarball and npm's cache) into a fresh project, then used the ways users use it — a Vite-built page in
// headless Chromium (browser-only install: no Dawn), Node ESM with and without the optional `webgpu`
// peer, `require()` from CommonJS, TypeScript with no DOM lib, and the installed command.
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer';
import { build, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/**
 * What a browser-only install may weigh (this package + @webgpu/types), in bytes: unminified ES modules
 * with source maps and declarations, 2.64 MB when measured with the encoder–decoder, its attention
 * kernels and decoding in (2.20 MB before them), 3.01 MB with the attentive decoder kernel, checkpoints,
 * the schedules, L1 and recurrent dropout — of which 0.72 MB is the ONNX codec's chunk and its map,
 * loaded only by the ONNX calls (an app's bundler minifies and splits what it uses). The budget stops
 * a native or bundled dependency slipping in (Dawn alone is ~130 MB), with room for our own code.
 */
const BROWSER_INSTALL_BUDGET = 3.5e6;
/** Error bound of an f32 GPU forward vs the float64 reference on this small model. */
const GPU_RTOL = 1e-5;

let dir = '';
let app = '';
let tarball = '';
let packed: { path: string; size: number }[] = [];

function run(cmd: string, args: string[], cwd: string, timeout = 180_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd, timeout, maxBuffer: 1 << 24, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) || 1 : 0, stdout, stderr }),
    );
  });
}

async function runOk(cmd: string, args: string[], cwd: string) {
  const r = await run(cmd, args, cwd);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * Tarballs of packages this repository has installed, with their dependencies: npm's cache holds their
 * contents but not the registry's metadata an offline install by name would need, so they are packed
 * from node_modules and installed from files, as the library itself is.
 */
async function packInstalled(names: string[]): Promise<string[]> {
  const closure = new Set<string>();
  const visit = async (name: string) => {
    if (closure.has(name)) return;
    closure.add(name);
    const pkg = JSON.parse(await readFile(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies ?? {})) await visit(dep);
  };
  for (const name of names) await visit(name);
  const out = join(dir, 'deps');
  await mkdir(out, { recursive: true });
  const tarballs: string[] = [];
  for (const name of closure) {
    const [info] = JSON.parse(
      await runOk('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out, join(ROOT, 'node_modules', name)], ROOT),
    ) as { filename: string }[];
    tarballs.push(join(out, info.filename));
  }
  return tarballs;
}

const install = async (tarballs: string[]) => runOk('npm', ['install', '--offline', '--ignore-scripts', '--no-package-lock', ...tarballs], app);

function duBytes(path: string): number {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, entry) => sum + duBytes(join(path, entry)), 0);
}

/**
 * One forward of a seeded LSTM (2 layers, bidirectional, lengths) on the requested backend and on the
 * CPU reference, run by the installed package; the same module runs in Node and in the page.
 */
const CHECK_MODULE = `
import { createRnn, exportRnnOnnx, loadOnnx, parameterSpecs, resolveConfig } from 'webgpu-rnn';

const config = resolveConfig({ mode: 'LSTM', input_size: 5, hidden_size: 17, num_layers: 2, bidirectional: true });
let seed = 20261128;
const rand = () => (((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1);
const weights = {};
for (const spec of parameterSpecs(config)) {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  weights[spec.name] = { shape: spec.shape, data: Float32Array.from({ length: n }, () => 0.4 * rand()) };
}
const input = { shape: [7, 3, 5], data: Float32Array.from({ length: 105 }, rand) };

/** The model exported as ONNX and loaded back (protobufjs's lazily loaded chunk) vs the CPU forward. */
export async function checkOnnx(backend) {
  const model = await loadOnnx(await exportRnnOnnx(config, weights, { initialStates: false }), { backend });
  const reference = await createRnn({ config, weights, backend: 'cpu' });
  try {
    const a = (await model.run({ input })).output;
    const b = (await reference.forward(input)).output;
    let diff = 0, norm = 0;
    for (let i = 0; i < b.data.length; i++) { diff += (a.data[i] - b.data[i]) ** 2; norm += b.data[i] ** 2; }
    return { backend: model.backend, inputs: model.inputs.map((i) => i.name), relErr: Math.sqrt(diff / norm), shape: a.shape };
  } finally {
    model.destroy();
    reference.destroy();
  }
}

export async function check(backend) {
  const options = { lengths: [7, 2, 5] };
  const model = await createRnn({ config, weights, backend });
  const reference = await createRnn({ config, weights, backend: 'cpu' });
  try {
    const a = await model.forward(input, options);
    const b = await reference.forward(input, options);
    let diff = 0, norm = 0, finite = true;
    for (const key of ['output', 'h_n', 'c_n']) {
      for (let i = 0; i < b[key].data.length; i++) {
        finite &&= Number.isFinite(a[key].data[i]);
        diff += (a[key].data[i] - b[key].data[i]) ** 2;
        norm += b[key].data[i] ** 2;
      }
    }
    return { backend: model.backend, relErr: finite ? Math.sqrt(diff / norm) : NaN, shape: a.output.shape };
  } finally {
    model.destroy();
    reference.destroy();
  }
}
`;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` (scripts/test.sh does) first');
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rnn-package-'));
  // The build already ran (scripts/test.sh); --ignore-scripts keeps `prepare` from building again.
  const [info] = JSON.parse(await runOk('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT)) as {
    filename: string;
    files: { path: string; size: number }[];
  }[];
  tarball = join(dir, info.filename);
  packed = info.files;
  app = join(dir, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  await writeFile(join(app, 'check.js'), CHECK_MODULE);
  await install([tarball, ...(await packInstalled(['@webgpu/types']))]);
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('ships the library, its types and the command — not the benchmark, its peers or the sources', () => {
    const paths = packed.map((f) => f.path);
    for (const needed of [
      'dist/index.js',
      'dist/node.js',
      'dist/cli.js',
      'dist/types/src/index.d.ts',
      'dist/types/src/node.d.ts',
      'bin/webgpu-rnn.js',
      'package.json',
      'README.md',
      'THIRD-PARTY-NOTICES.md',
    ]) {
      expect(paths).toContain(needed);
    }
    const unwanted = paths.filter((p) => /(^|\/)(bench|ort|tfjs|chromium|puppeteer)[-./]|^src\/|^shaders\/|^test\/|^demo\//.test(p));
    expect(unwanted).toEqual([]);
  });

  it('carries the licences of what dist/ bundles (protobufjs and long), and nothing bundled is left out', async () => {
    const r = await run(process.execPath, ['scripts/third-party-notices.mjs', '--check'], ROOT);
    expect(`${r.stdout}${r.stderr}`).toMatch(/covers the \d+ bundled packages/);
    expect(r.code).toBe(0);
    const notices = await readFile(join(ROOT, 'THIRD-PARTY-NOTICES.md'), 'utf8');
    for (const name of ['protobufjs', 'long']) expect(notices).toContain(`## ${name} `);
  });

  it(`a browser-only install has no Dawn and weighs under ${BROWSER_INSTALL_BUDGET / 1e6} MB`, () => {
    const modules = join(app, 'node_modules');
    expect(
      readdirSync(modules)
        .filter((e) => !e.startsWith('.'))
        .sort(),
    ).toEqual(['@webgpu', 'webgpu-rnn']);
    expect(existsSync(join(modules, 'webgpu'))).toBe(false);
    const bytes = duBytes(modules);
    console.log(`browser-only install: ${(bytes / 1e6).toFixed(2)} MB in node_modules`);
    expect(bytes).toBeLessThan(BROWSER_INSTALL_BUDGET);
  });

  it('without the webgpu package, Node says which package to install; the CPU backend still runs', async () => {
    await writeFile(
      join(app, 'no-dawn.mjs'),
      `
      import { check, checkOnnx } from './check.js';
      let error;
      try { await check('webgpu'); } catch (e) { error = { name: e.name, code: e.code, message: e.message }; }
      console.log(JSON.stringify({ error, cpu: await check('cpu'), onnx: await checkOnnx('cpu') }));
      process.exit(0);
    `,
    );
    const out = JSON.parse(await runOk(process.execPath, ['no-dawn.mjs'], app));
    expect(out.error).toMatchObject({ name: 'RnnError', code: 'WEBGPU_PACKAGE_MISSING' });
    expect(out.error.message).toMatch(/npm install webgpu/);
    expect(out.error.message.split('\n')).toHaveLength(1);
    expect(out.cpu).toMatchObject({ backend: 'cpu', relErr: 0, shape: [7, 3, 34] });
    // float32 weights through the file, float64 ONNX path vs float64 engine: rounding only.
    expect(out.onnx).toMatchObject({ backend: 'cpu', inputs: ['input'], shape: [7, 3, 34] });
    expect(out.onnx.relErr).toBeLessThan(1e-6);
  });

  it('the installed command runs and its help lists no benchmark', async () => {
    const r = await run(join(app, 'node_modules/.bin/webgpu-rnn'), ['--help'], app);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/webgpu-rnn forward --config/);
    expect(r.stdout).not.toMatch(/bench/);
  });

  it('a Vite-built page under a strict Content-Security-Policy imports it; its forward and an ONNX round trip on WebGPU in headless Chromium match the CPU reference', async () => {
    await writeFile(
      join(app, 'index.html'),
      '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>app</title><script type="module" src="./main.js"></script>',
    );
    await writeFile(
      join(app, 'main.js'),
      `
      import { check, checkOnnx } from './check.js';
      Promise.all([check('webgpu'), checkOnnx('webgpu')]).then(([r, onnx]) => { window.__result = { ...r, onnx }; }, (e) => { window.__result = { error: String(e && e.stack || e) }; });
    `,
    );
    await build({ root: app, configFile: false, logLevel: 'error', build: { outDir: join(app, 'dist'), emptyOutDir: true } });
    const bundle = readdirSync(join(app, 'dist/assets')).filter((f) => f.endsWith('.js'));
    expect(bundle.length).toBeGreaterThan(0);
    // Served under a strict Content-Security-Policy (no eval, scripts from the page's origin only), as
    // many apps are: a violation is logged as a console error, which fails the test below.
    const csp = "default-src 'self'; script-src 'self'; img-src data:; object-src 'none'; base-uri 'none'"; // (img-src: the page's empty icon)
    const server = await preview({
      root: app,
      configFile: false,
      logLevel: 'error',
      build: { outDir: join(app, 'dist') },
      preview: { host: '127.0.0.1', port: 0, headers: { 'Content-Security-Policy': csp } },
    });
    const profile = await mkdtemp(join(tmpdir(), 'webgpu-rnn-package-chromium-'));
    const browser = await puppeteer.launch({
      executablePath: '/usr/bin/chromium',
      userDataDir: profile,
      headless: true,
      args: [
        '--no-sandbox',
        '--enable-unsafe-webgpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      const { port } = server.httpServer.address() as AddressInfo;
      const response = await page.goto(`http://127.0.0.1:${port}/`);
      expect(response?.headers()['content-security-policy']).toBe(csp);
      await page.waitForFunction('window.__result !== undefined', { timeout: 120_000 });
      const result = (await page.evaluate('window.__result')) as { error?: string; backend: string; relErr: number; onnx: { backend: string; relErr: number } };
      expect(result.error).toBeUndefined();
      expect(result.backend).toBe('webgpu');
      expect(result.relErr).toBeLessThan(GPU_RTOL);
      expect(result.onnx.backend).toBe('webgpu');
      expect(result.onnx.relErr).toBeLessThan(GPU_RTOL);
      // protobufjs is its own chunk, loaded only by the ONNX calls.
      expect(bundle.length).toBeGreaterThan(1);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
      await rm(profile, { recursive: true, force: true });
    }
  }, 240_000);

  it('with webgpu installed beside it, Node ESM runs the forward on Dawn and matches the CPU reference', async () => {
    await install(await packInstalled(['webgpu']));
    await writeFile(
      join(app, 'dawn.mjs'),
      `
      import { check } from './check.js';
      console.log(JSON.stringify(await check('webgpu')));
      process.exit(0);
    `,
    );
    const out = JSON.parse((await runOk(process.execPath, ['dawn.mjs'], app)).trim().split('\n').at(-1)!);
    expect(out.backend).toBe('webgpu');
    expect(out.relErr).toBeLessThan(GPU_RTOL);
  }, 240_000);

  it('require() from CommonJS gets the ES module (Node ≥ 20.19), and package.json is exported', async () => {
    await writeFile(
      join(app, 'common.cjs'),
      `
      const rnn = require('webgpu-rnn');
      console.log(JSON.stringify({ createRnn: typeof rnn.createRnn, version: require('webgpu-rnn/package.json').version }));
    `,
    );
    const out = JSON.parse(await runOk(process.execPath, ['common.cjs'], app));
    expect(out).toEqual({ createRnn: 'function', version: JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version });
  });

  it('its published types compile for a Node-only TypeScript user (no DOM lib), GPU types included', async () => {
    await install(await packInstalled(['@types/node']));
    const use = `
      import { createRnn, type Rnn, type Tensor } from 'webgpu-rnn';
      import { nodeGpu, requestDevice } from 'webgpu-rnn/node';
      export async function make(device: GPUDevice): Promise<Rnn> {
        return createRnn({ config: { mode: 'GRU', input_size: 2, hidden_size: 3 }, weights: {}, device });
      }
      export const gpu: Promise<GPU> = nodeGpu();
      export const dev: Promise<GPUDevice> = requestDevice();
      export const t: Tensor = { shape: [1], data: new Float32Array(1) };
    `;
    // A mistake only the GPU types can catch: proves GPUDevice resolves to the real declaration (not any).
    const misuse = `
      import { requestDevice } from 'webgpu-rnn/node';
      export const n: number = (await requestDevice()).limits.maxBufferSize.toFixed();
    `;
    await writeFile(join(app, 'use.ts'), use);
    await writeFile(join(app, 'misuse.ts'), misuse);
    const tsc = (file: string, ...extra: string[]) =>
      run(
        process.execPath,
        [
          join(ROOT, 'node_modules/typescript/bin/tsc'),
          '--noEmit',
          '--strict',
          '--lib',
          'es2022',
          '--types',
          'node',
          '--module',
          'nodenext',
          '--moduleResolution',
          'nodenext',
          '--target',
          'es2022',
          ...extra,
          file,
        ],
        app,
      );
    // skipLibCheck, as \`tsc --init\` sets it: @webgpu/types itself names a few DOM types (BufferSource,
    // ImageBitmap, EventTarget's options) that only the DOM library declares.
    const clean = await tsc('use.ts', '--skipLibCheck');
    expect(`${clean.stdout}${clean.stderr}`).toBe('');
    expect(clean.code).toBe(0);
    const wrong = await tsc('misuse.ts', '--skipLibCheck');
    expect(wrong.stdout).toMatch(/misuse\.ts.*error TS2322: Type 'string' is not assignable to type 'number'/);
    // Without skipLibCheck every error is in @webgpu/types' DOM references, none in this package's declarations.
    const strict = await tsc('use.ts');
    const errors = strict.stdout.split('\n').filter((l) => /error TS/.test(l));
    expect(errors.filter((l) => !l.startsWith('node_modules/@webgpu/types/'))).toEqual([]);
  }, 120_000);
});
