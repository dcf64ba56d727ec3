/**
 * A free-list of GPU buffers keyed by usage and size class, so plans for new shapes reuse the memory
 * of plans that were dropped instead of allocating. Sizes round up to a power of two (at least
 * 256 bytes); bindings use exact ranges, so the slack is never read. Free memory is capped: past
 * the cap released buffers are destroyed rather than kept.
 */
const MIN_SIZE = 256;

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private freeBytes = 0;
  /** Buffers this pool has created (a steady-state run must not raise it). */
  created = 0;

  constructor(private readonly device: GPUDevice, private readonly maxFreeBytes = 256 << 20) {}

  static sizeClass(bytes: number): number {
    let size = MIN_SIZE;
    while (size < bytes) size *= 2;
    return size;
  }

  acquire(label: string, bytes: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const size = BufferPool.sizeClass(bytes);
    const list = this.free.get(`${usage}:${size}`);
    const reused = list?.pop();
    if (reused) {
      this.freeBytes -= size;
      reused.label = label;
      return reused;
    }
    this.created++;
    return this.device.createBuffer({ label, size, usage });
  }

  release(buffer: GPUBuffer): void {
    if (this.freeBytes + buffer.size > this.maxFreeBytes) {
      buffer.destroy();
      return;
    }
    const key = `${buffer.usage}:${buffer.size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buffer);
    this.freeBytes += buffer.size;
  }

  destroy(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.freeBytes = 0;
  }
}
