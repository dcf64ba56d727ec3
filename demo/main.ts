/**
 * The demo page: finds out whether this browser has WebGPU (and says plainly when it has not: every
 * panel then runs on the float64 CPU backend, slower), then wires the panels. What the panels
 * compute is also published on `window.__demo` for the page's automated test (test/demo.test.ts).
 */
import { type Backend, requestDevice } from '../src/index.js';
import { setupDates } from './panels/dates.js';
import { setupForecast } from './panels/forecast.js';
import { setupGradientFlow } from './panels/gradient-flow.js';
import { setupNextChar } from './panels/next-char.js';
import { setupSpeed } from './panels/speed.js';
import { byId } from './ui.js';

/** What the page knows about the GPU it runs on. */
export interface PageContext {
  backend: Backend;
  adapter: string;
}

async function detect(): Promise<PageContext> {
  const status = byId('backend');
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  let why = 'this browser has no WebGPU (navigator.gpu is missing)';
  if (gpu) {
    try {
      const adapter = await gpu.requestAdapter();
      if (adapter) {
        await requestDevice(); // the engine's own device, as the panels will use it
        const info = adapter.info;
        const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'a WebGPU adapter';
        status.textContent = `Running on your GPU through WebGPU: ${name}${info.isFallbackAdapter ? ' (a software fallback adapter: expect it to be slow)' : ''}.`;
        return { backend: 'webgpu', adapter: name };
      }
      why = 'WebGPU is present but no adapter is available (it may be switched off, or the GPU blocklisted)';
    } catch (e) {
      why = `WebGPU could not start: ${(e as Error).message}`;
    }
  }
  status.textContent = `No WebGPU here — ${why}. Everything below runs on the CPU backend instead (the float64 reference): it works, only slower.`;
  status.classList.add('cpu');
  return { backend: 'cpu', adapter: 'CPU (float64 reference)' };
}

const page = await detect();
window.__demo = { backend: page.backend };
setupNextChar(page);
setupGradientFlow(page);
setupForecast(page);
setupDates(page);
setupSpeed(page);
