/**
 * A free-list of GPU buffers keyed by usage and size class, so plans for new shapes reuse the memory
 * of plans that were dropped instead of allocating. Sizes round up to a power of two (at least
 * 256 bytes, at most the device's maxBufferSize); bindings use exact ranges, so the slack is never
 * read. Free memory is capped: past the cap released buffers are destroyed rather than kept.
 * Counts every buffer it creates and destroys, so diagnostics can show what is live.
 */
const MIN_SIZE = 256;

export interface BufferCounts {
  /** Buffers created and not yet destroyed: in use plus pooled. */
  live: number;
  liveBytes: number;
  /** Handed out and not yet released. */
  inUse: number;
  /** Released and kept for reuse. */
  pooled: number;
  pooledBytes: number;
  /** Ever created (a steady-state run must not raise it). */
  created: number;
}

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private freeBytes = 0;
  private freeCount = 0;
  private liveBytes = 0;
  private destroyed = 0;
  /** Buffers this pool has created (a steady-state run must not raise it). */
  created = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxFreeBytes = 256 << 20,
  ) {}

  static sizeClass(bytes: number, maxBufferSize = Number.POSITIVE_INFINITY): number {
    let size = MIN_SIZE;
    while (size < bytes) size *= 2;
    // Near the device's limit a power of two would not fit where the exact size does.
    return size > maxBufferSize && bytes <= maxBufferSize ? Math.ceil(bytes / 4) * 4 : size;
  }

  acquire(label: string, bytes: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const size = BufferPool.sizeClass(bytes, this.device.limits.maxBufferSize);
    const list = this.free.get(`${usage}:${size}`);
    const reused = list?.pop();
    if (reused) {
      this.freeBytes -= size;
      this.freeCount--;
      reused.label = label;
      return reused;
    }
    this.created++;
    this.liveBytes += size;
    return this.device.createBuffer({ label, size, usage });
  }

  /**
   * A buffer of exactly `bytes` (rounded up to 16) that never enters the pool: long-lived weights,
   * which a power-of-two size class could nearly double. Free it with discard().
   */
  exact(label: string, bytes: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    this.created++;
    this.liveBytes += size;
    return this.device.createBuffer({ label, size, usage });
  }

  release(buffer: GPUBuffer): void {
    if (this.freeBytes + buffer.size > this.maxFreeBytes) {
      this.discard(buffer);
      return;
    }
    const key = `${buffer.usage}:${buffer.size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buffer);
    this.freeBytes += buffer.size;
    this.freeCount++;
  }

  /** Destroys a buffer that is not to be reused (e.g. one a failed submission may have left invalid). */
  discard(buffer: GPUBuffer): void {
    this.destroyed++;
    this.liveBytes -= buffer.size;
    buffer.destroy();
  }

  /** Destroys every pooled buffer (the last model on the device is gone). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) this.discard(b);
    this.free.clear();
    this.freeBytes = 0;
    this.freeCount = 0;
  }

  counts(): BufferCounts {
    const live = this.created - this.destroyed;
    return {
      live,
      liveBytes: this.liveBytes,
      inUse: live - this.freeCount,
      pooled: this.freeCount,
      pooledBytes: this.freeBytes,
      created: this.created,
    };
  }
}
