/**
 * WebGPU for Node through Dawn (the `webgpu` npm package), loaded only when there is no
 * `navigator.gpu`. The imports are hidden from bundlers (`@vite-ignore`) so browser builds never try
 * to include the native module.
 *
 * Software fallback: when the machine has no Vulkan driver manifest of its own and Debian's Chromium
 * ships SwiftShader, point the Vulkan loader at it (unless the caller already chose with
 * VK_ICD_FILENAMES / VK_DRIVER_FILES). A machine with a real GPU driver is left alone.
 */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const SYSTEM_ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

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
  if (!env.VK_ICD_FILENAMES && !env.VK_DRIVER_FILES && fs.existsSync(SWIFTSHADER_ICD)) {
    const hasSystemDriver = SYSTEM_ICD_DIRS.some((dir) => fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.endsWith('.json')));
    if (!hasSystemDriver) env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  const specifier = 'webgpu';
  let dawn: DawnModule;
  try {
    dawn = (await import(/* @vite-ignore */ specifier)) as DawnModule;
  } catch (cause) {
    throw new Error('WebGPU in Node needs the `webgpu` package (Dawn): npm install webgpu', { cause });
  }
  // Dawn's GPU* classes and flag objects as globals, as a browser has them (harmless if already set).
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  cached = dawn.create([]);
  return cached;
}

export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}
