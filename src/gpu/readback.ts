/**
 * Reading GPU buffers back to the host, the one way: copy into a MAP_READ staging buffer in the same
 * submission as the work, map it, copy the bytes out, unmap. Plans keep their staging buffers (a
 * steady-state call allocates nothing); one-off reads take one from the pool.
 */
import { BufferUsage, MapMode } from './constants.js';
import type { GpuContext } from './context.js';
import { isNode } from './node-gpu.js';

export const STAGING = BufferUsage.MAP_READ | BufferUsage.COPY_DST;

/**
 * Waiting for the GPU without spinning a core. Dawn's Node binding (the `webgpu` package) polls for
 * finished work with setImmediate for as long as any of its promises is pending, so Node's main
 * thread runs flat out through every wait — on a software adapter, a core taken from the workers that
 * emulate the GPU. Measured in Node on SwiftShader (2 cores), the char-rnn forward (LSTM 128, 2 layers,
 * B 8, T 50) with its read: medians 69–72 ms, and 39–42 ms with that polling moved to a 1 ms timer.
 * So in Node a read that has waited before on the same key (a plan's staging buffer, a trainer's
 * results) first sleeps on a timer for most of the shortest of its recent waits, and maps only then:
 * the polling covers the rest. Browsers wait without polling; there a read maps at once.
 */
export class WaitPace {
  /** Share of the shortest recent wait spent asleep; the rest absorbs the work's jitter. */
  static readonly SLEEP_SHARE = 0.8;
  /**
   * Waits remembered: the sleep follows the shortest, so work that takes one of two times (a software
   * adapter's loops do) sleeps for the shorter and never past it.
   */
  static readonly RECENT = 4;
  /** No sleep shorter than this: a timer's own lateness (about a millisecond in Node) would outweigh it. */
  static readonly MIN_SLEEP_MS = 2;
  /**
   * A map that resolves within this long of waking was probably ready before it: the work got shorter,
   * by an amount the wait cannot tell, so it counts as half the time slept.
   */
  static readonly READY_ON_WAKING_MS = 1;
  /** Milliseconds from a read's start to its map resolving, the last RECENT reads. */
  private readonly recent: number[] = [];

  /** How long the next read sleeps before mapping, in ms (0: it maps at once). */
  sleepMs(): number {
    if (this.recent.length === 0) return 0;
    const sleep = Math.min(...this.recent) * WaitPace.SLEEP_SHARE;
    return sleep >= WaitPace.MIN_SLEEP_MS ? sleep : 0;
  }

  /** Learns from one read: it woke `woke` ms after it began (0: it did not sleep), and its map resolved at `resolved` ms. */
  learn(woke: number, resolved: number): void {
    this.recent.push(woke > 0 && resolved - woke < WaitPace.READY_ON_WAKING_MS ? woke / 2 : resolved);
    if (this.recent.length > WaitPace.RECENT) this.recent.shift();
  }
}

/** Each key's paces, by the label of the read (one buffer read after different work: a step's results, a loss alone). */
const paces = new WeakMap<object, Map<string, WaitPace>>();

/** Whether waiting on this runtime's GPU promises spins the main thread: Dawn in Node (not a browser, nor a runtime with its own navigator.gpu). */
export function waitsSpin(): boolean {
  return isNode() && !(globalThis.navigator as { gpu?: unknown } | undefined)?.gpu;
}

/** Awaits `wait()` (a map), first sleeping for most of what the same read (`key`, `label`) waited before, where waiting spins (WaitPace). */
async function paced(key: object, label: string, wait: () => Promise<void>): Promise<void> {
  if (!waitsSpin()) return wait();
  let byLabel = paces.get(key);
  if (!byLabel) paces.set(key, (byLabel = new Map()));
  let pace = byLabel.get(label);
  if (!pace) byLabel.set(label, (pace = new WaitPace()));
  const start = performance.now();
  const sleep = pace.sleepMs();
  if (sleep > 0) await new Promise((resolve) => setTimeout(resolve, sleep));
  const woke = sleep > 0 ? performance.now() - start : 0;
  await wait();
  pace.learn(woke, performance.now() - start);
}

/**
 * Maps a staging buffer whose copy has been submitted; returns a host copy of its first `elements` f32.
 * `key` and `label` name the read for WaitPace (default: the staging buffer).
 */
export async function mapRead(buffer: GPUBuffer, elements: number, key: object = buffer, label = ''): Promise<Float32Array> {
  await paced(key, label, () => buffer.mapAsync(MapMode.READ, 0, elements * 4));
  try {
    return new Float32Array(buffer.getMappedRange(0, elements * 4).slice(0));
  } finally {
    buffer.unmap();
  }
}

/**
 * Reads `elements` f32 of `source` through a pooled staging buffer. A failure destroys the staging
 * buffer rather than pooling it (a failed map may leave it unusable).
 */
export async function readBuffer(ctx: GpuContext, label: string, source: GPUBuffer, elements: number): Promise<Float32Array> {
  const staging = ctx.buffer(`${label}.staging`, elements * 4, STAGING);
  try {
    const encoder = ctx.device.createCommandEncoder({ label });
    encoder.copyBufferToBuffer(source, 0, staging, 0, elements * 4);
    ctx.device.queue.submit([encoder.finish()]);
    const data = await mapRead(staging, elements, source, label);
    ctx.release(staging);
    return data;
  } catch (e) {
    ctx.discard(staging);
    throw e;
  }
}
