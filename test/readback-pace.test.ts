// WaitPace (src/gpu/readback.ts): in Node, where Dawn's binding polls with setImmediate for as long as
// a map is pending, a read that has waited before sleeps on a timer for most of that wait and maps only
// then. The staging buffer here is a stand-in that records when it was asked to map: what is tested is
// when the read asks, not what the GPU returns (the GPU suites read real buffers through the same path).
import { afterEach, describe, expect, test } from 'vitest';
import { WaitPace, mapRead, waitsSpin } from '../src/gpu/readback.js';

/** A staging buffer whose map takes `mapMs` and records how long after `origin` each map was asked for. */
function stagingStub(mapMs: number) {
  const askedAt: number[] = [];
  let origin = 0;
  const buffer = {
    mapAsync: async () => {
      askedAt.push(performance.now() - origin);
      await new Promise((resolve) => setTimeout(resolve, mapMs));
    },
    getMappedRange: () => new Float32Array([1, 2, 3, 4]).buffer,
    unmap: () => {},
  } as unknown as GPUBuffer;
  const read = async (key?: object, label?: string) => {
    origin = performance.now();
    return mapRead(buffer, 4, key ?? buffer, label);
  };
  return { read, askedAt };
}

describe('WaitPace', () => {
  test('sleeps for most of the shortest recent wait, counts waking to finished work as half the sleep, never sleeps under 2 ms', () => {
    const pace = new WaitPace();
    expect(pace.sleepMs()).toBe(0); // nothing learned: map at once
    pace.learn(0, 50);
    expect(pace.sleepMs()).toBeCloseTo(40);
    pace.learn(40.5, 70); // a slower wait: the sleep keeps to the shorter
    expect(pace.sleepMs()).toBeCloseTo(40);
    pace.learn(40.5, 41); // ready on waking: the work got shorter, by an amount unknown
    expect(pace.sleepMs()).toBeCloseTo(0.8 * 20.25);
    pace.learn(16.5, 30);
    pace.learn(16.5, 30);
    pace.learn(16.5, 30);
    pace.learn(16.5, 30); // the half-sleep has left the window of four
    expect(pace.sleepMs()).toBeCloseTo(24);
    for (let i = 0; i < 4; i++) pace.learn(0, 2);
    expect(pace.sleepMs()).toBe(0); // 1.6 ms: less than a timer's own lateness
  });
});

describe('mapRead in Node (waiting spins)', () => {
  const navigatorBefore = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  afterEach(() => {
    if (navigatorBefore) Object.defineProperty(globalThis, 'navigator', navigatorBefore);
    else delete (globalThis as { navigator?: unknown }).navigator;
  });

  test('the first read maps at once; the next read of the same work sleeps first, and returns the same data', async () => {
    expect(waitsSpin()).toBe(true);
    const { read, askedAt } = stagingStub(40);
    expect(Array.from(await read())).toEqual([1, 2, 3, 4]);
    expect(Array.from(await read())).toEqual([1, 2, 3, 4]);
    expect(askedAt[0]).toBeLessThan(10);
    expect(askedAt[1]).toBeGreaterThanOrEqual(0.8 * 40 - 2);
  });

  test('a read under another label, or another key, learns on its own', async () => {
    const { read, askedAt } = stagingStub(40);
    const key = {};
    await read(key, 'step');
    await read(key, 'loss');
    await read({}, 'step');
    await read(key, 'step');
    expect(askedAt.slice(0, 3).every((t) => t < 10)).toBe(true);
    expect(askedAt[3]).toBeGreaterThanOrEqual(0.8 * 40 - 2);
  });

  test('where the runtime has its own navigator.gpu (a browser, Deno), reads map at once', async () => {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: {} }, configurable: true, writable: true });
    expect(waitsSpin()).toBe(false);
    const { read, askedAt } = stagingStub(40);
    await read();
    await read();
    expect(askedAt.every((t) => t < 10)).toBe(true);
  });
});
