/**
 * The demo page: finds out whether this browser has WebGPU (and says plainly when it has not: every
 * panel then runs on the float64 CPU backend, slower), then wires the panels. What the panels
 * compute is also published on `window.__demo` for the page's automated test (test/demo.test.ts).
 */
import { type Backend, requestDevice } from '../src/index.js';
import { setupBidirectional } from './panels/bidirectional.js';
import { setupCells } from './panels/cells.js';
import { setupClipping } from './panels/clipping.js';
import { setupDates } from './panels/dates.js';
import { setupGates } from './panels/gates.js';
import { setupForecast } from './panels/forecast.js';
import { setupGradientFlow } from './panels/gradient-flow.js';
import { setupNextChar } from './panels/next-char.js';
import { setupOptimizers } from './panels/optimizers.js';
import { setupOverfitting } from './panels/overfitting.js';
import { setupSpeed } from './panels/speed.js';
import { say, t } from './i18n.js';
import { setupLanguageSwitch } from './language-switch.js';
import { byId } from './ui.js';

/** What the page knows about the GPU it runs on. */
export interface PageContext {
  backend: Backend;
  adapter: string;
}

async function detect(): Promise<PageContext> {
  const status = byId('backend');
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  let why = () => t('page.noGpu');
  if (gpu) {
    try {
      const adapter = await gpu.requestAdapter();
      if (adapter) {
        await requestDevice(); // the engine's own device, as the panels will use it
        const info = adapter.info;
        const named = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ');
        const name = named || 'a WebGPU adapter';
        say(status, () => t('page.backendGpu', { name: named || t('page.anAdapter'), fallback: info.isFallbackAdapter ? t('page.backendFallback') : '' }));
        return { backend: 'webgpu', adapter: name };
      }
      why = () => t('page.noAdapter');
    } catch (e) {
      const message = (e as Error).message;
      why = () => t('page.gpuFailed', { message });
    }
  }
  const reason = why;
  say(status, () => t('page.backendCpu', { why: reason() }));
  status.classList.add('cpu');
  return { backend: 'cpu', adapter: 'CPU (float64 reference)' };
}

setupLanguageSwitch(); // the page's text in the visitor's language before anything else is written
const page = await detect();
window.__demo = { backend: page.backend, adapter: page.adapter };
setupNextChar(page);
setupGates(page);
setupGradientFlow(page);
setupCells(page);
setupClipping(page);
setupOptimizers(page);
setupForecast(page);
setupOverfitting(page);
setupBidirectional(page);
setupDates(page);
setupSpeed(page);
