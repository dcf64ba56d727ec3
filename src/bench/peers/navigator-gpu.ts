/**
 * Both WebGPU peers refuse to start unless `globalThis.navigator.gpu` exists, even when handed a
 * device (tfjs's isWebGPUSupported() check in WebGPUBackend's constructor; ORT's WebGPU EP setup).
 * Node 20 has no `navigator`, so for the duration of `make` only we provide `{ gpu }` (Dawn's GPU
 * object) and take it away after — after the promise settles when `make` is asynchronous. Where the
 * host has navigator.gpu (browsers), `make` simply runs.
 */
export function withNavigatorGpu<T>(gpu: GPU, make: () => T): T {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (g.navigator?.gpu) return make();
  const hadNavigator = g.navigator !== undefined;
  if (hadNavigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const restore = () => {
    if (hadNavigator) delete g.navigator!.gpu;
    else delete g.navigator;
  };
  let result: T;
  try {
    result = make();
  } catch (e) {
    restore();
    throw e;
  }
  if (result instanceof Promise) return result.finally(restore) as T;
  restore();
  return result;
}
