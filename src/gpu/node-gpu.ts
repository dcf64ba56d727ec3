/**
 * WebGPU for Node through Dawn (the `webgpu` npm package), loaded only when there is no
 * `navigator.gpu`. The imports are hidden from bundlers (`@vite-ignore`) so browser builds never try
 * to include the native module.
 *
 * Software fallback: where Debian's Chromium ships SwiftShader (a CPU Vulkan driver Dawn accepts),
 * add it to the drivers the Vulkan loader offers (VK_ADD_DRIVER_FILES), unless the caller already
 * chose drivers with VK_ICD_FILENAMES / VK_DRIVER_FILES / VK_ADD_DRIVER_FILES. Real GPU drivers stay
 * visible, and a high-performance adapter request prefers them over the software one.
 *
 * WEBGPU_RNN_ADAPTER=<part of a name> picks one adapter by name (Dawn's `adapter=` option), e.g.
 * `llvmpipe` for Mesa's lavapipe, the software driver with shader-f16. A name that matches none is
 * an error listing the adapters there are.
 */
import { RnnError } from '../errors.js';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

let cached: GPU | undefined;

/** Dawn's GPU object for Node (created once per process). */
export async function nodeGpu(): Promise<GPU> {
  if (cached) return cached;
  const fs: typeof import('node:fs') = await import(/* @vite-ignore */ 'node:fs');
  const env = process.env;
  const chosen = env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || env.VK_ADD_DRIVER_FILES;
  if (!chosen && fs.existsSync(SWIFTSHADER_ICD)) env.VK_ADD_DRIVER_FILES = SWIFTSHADER_ICD;
  const specifier = 'webgpu';
  let dawn: DawnModule;
  try {
    dawn = (await import(/* @vite-ignore */ specifier)) as DawnModule;
  } catch (cause) {
    // An optional peer dependency: browser-only users never install its ~130 MB of native binaries.
    throw new RnnError(
      'WEBGPU_PACKAGE_MISSING',
      'WebGPU in Node needs the `webgpu` package (Dawn), which is not installed: npm install webgpu (or use backend: "cpu")',
      { cause },
    );
  }
  // Dawn's GPU* classes and flag objects as globals, as a browser has them (harmless if already set).
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  const adapter = env.WEBGPU_RNN_ADAPTER;
  cached = dawn.create(adapter ? [`adapter=${adapter}`] : []);
  return cached;
}

export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}
